"""Keys: validation and mapping between volume keys and filesystem paths.

A *key* names a file or folder relative to the root of a storage volume. Keys
are '/'-separated on every backend and operating system. This module is the
only place where keys are checked and joined with a volume root, so that no
operation can reach outside its volume.

A valid key is a sequence of non-empty segments separated by '/'. A single
trailing '/' (a folder written as ``'a/b/'``) is accepted and dropped. These
are rejected:

- absolute keys (leading '/') and '.' or '..' segments (they would escape or
  alias the root);
- empty segments (``'a//b'``), which object stores and file systems disagree on;
- backslashes, NUL and other control characters;
- segments of the form of the temporary files that writes rename into place
  (``.name.<12 hex digits>.part``): listings leave those out, so a file of
  that name could be stored but never listed or copied.

Glob characters (``*``, ``?``, ``[``, ``]``) are ordinary characters of a key:
``data[1].csv`` names that file and never ``data1.csv``, because volumes make
no fsspec call that expands patterns (see :mod:`flowserv_fsspec.writes`).
"""

import re
import uuid
from typing import Callable, Optional

from flowserv_fsspec.errors import InvalidKeyError


SEP = '/'
"""Separator of key segments on every backend."""

TEMP_NAME = re.compile(r'\..+\.[0-9a-f]{12}\.part')
"""Names of the temporary files that ``store()`` writes beside a target."""


def normalize_key(key: Optional[str], allow_empty: bool = False) -> str:
    """Validate a key and return its normal form.

    Parameters
    ----------
    key: string
        Key relative to a volume root.
    allow_empty: bool, default=False
        Accept None or '' as the key of the volume root (returned as '').

    Returns
    -------
    string

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    """
    if key is None or key == '':
        if allow_empty:
            return ''
        raise InvalidKeyError(key, 'a key naming a file must not be empty')
    if not isinstance(key, str):
        raise InvalidKeyError(key, f'keys are strings, got {type(key).__name__}')
    if key.startswith(SEP):
        raise InvalidKeyError(key, 'keys are relative to the volume root, not absolute')
    for char in key:
        if ord(char) < 32 or ord(char) == 127:
            raise InvalidKeyError(key, f'control character {char!r} not allowed')
        if char == '\\':
            raise InvalidKeyError(key, "backslash not allowed; keys are '/'-separated")
    trimmed = key[:-1] if key.endswith(SEP) else key
    for segment in trimmed.split(SEP):
        if segment in ('', '.', '..'):
            raise InvalidKeyError(
                key, f'segment {segment!r} not allowed (empty, "." and ".." segments)'
            )
        if TEMP_NAME.fullmatch(segment):
            raise InvalidKeyError(
                key, f'{segment!r} has the form of the temporary files of writes '
                '(.name.<12 hex digits>.part), which listings leave out'
            )
    return trimmed


def join_key(*parts: Optional[str]) -> str:
    """Join key parts with '/', skipping empty and None parts.

    Parameters
    ----------
    parts: list of string
        Keys or key fragments, each already valid.

    Returns
    -------
    string
    """
    return SEP.join(p.strip(SEP) for p in parts if p)


def key_to_path(root: str, key: str) -> str:
    """Map a normalized key to a path of the volume's filesystem.

    Parameters
    ----------
    root: string
        Root path of the volume in the filesystem's own form (no protocol);
        '' for the top of a filesystem whose paths are relative (a ``dir::``
        chain: its paths are joined to the folder it wraps).
    key: string
        Normalized key ('' for the root itself).

    Returns
    -------
    string
    """
    if not key or not root:
        return key or root
    return root.rstrip(SEP) + SEP + key


def path_to_key(root: str, path: str) -> Optional[str]:
    """Map a filesystem path back to a key relative to the volume root.

    Parameters
    ----------
    root: string
        Root path of the volume in the filesystem's own form.
    path: string
        Path as returned by a listing of the filesystem.

    Returns
    -------
    string or None
        None when the path is not strictly below the root.
    """
    return key_cutter(root)(path)


def key_cutter(root: str) -> Callable[[str], Optional[str]]:
    """Get :func:`path_to_key` for one root, its prefix computed once (a
    listing maps every path it gives).

    Parameters
    ----------
    root: string
        Root path of the volume in the filesystem's own form.

    Returns
    -------
    callable
    """
    base = root.rstrip(SEP) + SEP if root.strip(SEP) else ''
    cut = len(base)

    def cut_key(path: str) -> Optional[str]:
        if not path.startswith(base):
            return None
        return path[cut:].lstrip(SEP) or None

    return cut_key


def is_within(path: str, root: str) -> bool:
    """Whether a path is the root itself or lies below it.

    Parameters
    ----------
    path: string
        A '/'-separated path.
    root: string
        A '/'-separated path.

    Returns
    -------
    bool
    """
    path, root = path.rstrip(SEP), root.rstrip(SEP)
    return not root or path == root or path.startswith(root + SEP)


def temp_path(path: str) -> str:
    """Get a fresh temporary name beside a path, for a write that is renamed
    into place: hidden (leading '.'), unique, and ending in '.part'.

    Parameters
    ----------
    path: string
        Path of the target file.

    Returns
    -------
    string
    """
    parent, _, name = path.rpartition(SEP)
    return f'{parent}{SEP}.{name}.{uuid.uuid4().hex[:12]}.part'


def is_temp_path(path: str) -> bool:
    """Whether a path names a temporary file of an unfinished ``store()``
    (one that a dropped connection kept from being renamed or removed).

    Parameters
    ----------
    path: string
        A path or key.

    Returns
    -------
    bool
    """
    # The suffix first: one string test for almost every listed file.
    return path.endswith('.part') and TEMP_NAME.fullmatch(path.rpartition(SEP)[2]) is not None
