"""One small module per backend: build the fsspec filesystem from the
backend's own settings and serialize the flowserv document; nothing else.

Backends whose fsspec implementation is an optional extra import it only
when a volume is built (:func:`import_backend`), so that the package imports
without them and a missing extra is reported by name.
"""

import importlib
from types import ModuleType

from flowserv_fsspec.errors import MissingExtraError


def import_backend(module: str, backend: str, extra: str) -> ModuleType:
    """Import the module that implements a backend.

    Parameters
    ----------
    module: string
        Module to import, e.g. 'gcsfs.core'.
    backend: string
        Name of the backend for the error message, e.g. 'gs://'.
    extra: string
        The package extra that installs the module.

    Returns
    -------
    module

    Raises
    ------
    flowserv_fsspec.errors.MissingExtraError
    """
    try:
        return importlib.import_module(module)
    except ImportError as ex:
        raise MissingExtraError(backend, module.split('.')[0], extra) from ex
