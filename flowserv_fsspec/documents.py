"""Serialized volume documents: ``{'type': T, 'id': ID, 'args': [{'key', 'value'}]}``.

This is the format that flowserv stores in its databases and configuration
files. Documents carry no credentials: those come from the environment or
from storage options given in code.
"""

from typing import Any, Dict, Optional, Sequence, Tuple

from flowserv_fsspec.errors import InvalidConfigurationError


FSSPEC_STORE = 'fsspec'
"""Type identifier of documents for volumes on any fsspec URL."""


def make_doc(doc_type: str, identifier: Optional[str], **args: Any) -> Dict[str, Any]:
    """Build a volume document; args keep their keyword order.

    Parameters
    ----------
    doc_type: string
        Volume type identifier.
    identifier: string
        Volume identifier (may be None).
    args: dict
        Volume arguments, serialized as key-value pairs.

    Returns
    -------
    dict
    """
    return {
        'type': doc_type,
        'id': identifier,
        'args': [{'key': key, 'value': value} for key, value in args.items()]
    }


def read_args(
    doc: Dict[str, Any], doc_type: str, required: Sequence[str] = (),
    types: Optional[Dict[str, Tuple[type, ...]]] = None
) -> Dict[str, Any]:
    """Read the arguments of a volume document of the given type.

    Parameters
    ----------
    doc: dict
        Volume document.
    doc_type: string
        Expected volume type (a missing 'type' is accepted).
    required: list of string, default=()
        Arguments that must be present with a string value.
    types: dict, default=None
        Types allowed for optional arguments (when given and not None).

    Returns
    -------
    dict

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if not isinstance(doc, dict):
        raise InvalidConfigurationError('volume document', doc, 'expected a dictionary')
    if doc.get('type', doc_type) != doc_type:
        raise InvalidConfigurationError(
            'volume document type', doc.get('type'), f'expected {doc_type!r}'
        )
    items = doc.get('args', [])
    if not isinstance(items, list) or not all(
        isinstance(a, dict) and isinstance(a.get('key'), str) and 'value' in a for a in items
    ):
        raise InvalidConfigurationError(
            'volume document args', items, "expected a list of {'key': string, 'value': ...}"
        )
    args = {a['key']: a['value'] for a in items}
    for name, value in args.items():
        if isinstance(value, str) and '\x00' in value:
            raise InvalidConfigurationError(
                f'argument {name!r} of {doc_type!r} volume document', value, 'holds a NUL character'
            )
    for name in required:
        if args.get(name) is None:
            raise InvalidConfigurationError(
                f'{doc_type!r} volume document', doc.get('id'),
                f'argument {name!r} is missing'
            )
    expected: Dict[str, Tuple[type, ...]] = dict.fromkeys(required, (str,))
    expected.update(types or {})
    for name, kinds in expected.items():
        value = args.get(name)
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if value is not None and (wrong_bool or not isinstance(value, kinds)):
            raise InvalidConfigurationError(
                f'argument {name!r} of {doc_type!r} volume document', value,
                f"expected {' or '.join(kind.__name__ for kind in kinds)}"
            )
    return args


def FsspecStore(url: str, identifier: Optional[str] = None) -> Dict[str, Any]:
    """Get configuration object for a volume on any fsspec URL.

    Parameters
    ----------
    url: string
        URL of the volume root, e.g. ``memory://runs``.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(FSSPEC_STORE, identifier, url=url)
