"""One small module per backend: build the fsspec filesystem from the
backend's own settings and serialize the flowserv document; nothing else.

Backends whose fsspec implementation is an optional extra import it only
when a volume is built (:func:`import_backend`), so that the package imports
without them and a missing extra is reported by name.
"""

import difflib
import importlib
import inspect
from types import ModuleType
from typing import Any, Callable, Dict, Iterable

from flowserv_fsspec.errors import InvalidConfigurationError, MissingExtraError


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


DEFAULT_TIMEOUT = 20.0
"""Seconds a network backend waits to connect, and for each read, unless the
storage option ``timeout`` says otherwise. With each backend's retries, a
server that accepts connections but never answers gives a typed error within
about two minutes."""


def timeout_option(options: Dict[str, Any]) -> float:
    """Take the storage option ``timeout`` (seconds, for connect and each
    read) out of a backend's options, or give the default.

    Parameters
    ----------
    options: dict
        Storage options given by the caller (``timeout`` is removed).

    Returns
    -------
    float

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    timeout = options.pop('timeout', DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidConfigurationError('option timeout', timeout, 'expected seconds > 0')
    return float(timeout)


FSSPEC_OPTIONS = (
    'skip_instance_cache', 'use_listings_cache', 'listings_expiry_time', 'max_paths',
    'asynchronous', 'loop', 'batch_size',
)
"""Options that every fsspec filesystem takes."""


def check_options(
    backend: str, options: Dict[str, Any], *takers: Callable[..., Any], extra: Iterable[str] = ()
) -> None:
    """Refuse storage options that the backend would not use, before the
    volume is built: fsspec filesystems take any keyword and pass it on, so a
    mistyped option (``endpoint=`` for ``endpoint_url=``) would otherwise
    fail at the first request with a raw ``TypeError``, or never.

    Parameters
    ----------
    backend: string
        Name of the backend for the message, e.g. 'S3'.
    options: dict
        The storage options given.
    takers: callable
        The functions the options end up in (the filesystem's ``__init__``,
        the client's): their named parameters are the options accepted.
    extra: list of string
        Options the volume itself takes.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        Naming the option, a likely one, and the accepted ones.
    """
    accepted = set(FSSPEC_OPTIONS) | set(extra)
    for taker in takers:
        accepted.update(
            name for name, parameter in inspect.signature(taker).parameters.items()
            if name != 'self' and parameter.kind in (
                parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY
            )
        )
    for name in sorted(set(options) - accepted):
        close = difflib.get_close_matches(name, accepted, n=1)
        hint = f'did you mean {close[0]!r}? ' if close else ''
        raise InvalidConfigurationError(
            f'{backend} storage option', name,
            f"{hint}accepted: {', '.join(sorted(accepted))}"
        )
