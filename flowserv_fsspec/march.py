"""Walking two listings in step (rclone's "march"): two streams of files
sorted by key are merged as they arrive, so that comparing a source with a
target holds one file of each side at a time, whatever their number.
"""

from typing import Iterable, Iterator, Optional, Tuple

from flowserv_fsspec.errors import UnsafeOperationError
from flowserv_fsspec.handles import IOHandle


Listed = Tuple[str, IOHandle]
"""A file of a listing: its key and its handle."""

Marched = Tuple[str, Optional[IOHandle], Optional[IOHandle]]
"""A key of either listing, with its file on each side (None: not there)."""


def march(source: Iterable[Listed], target: Iterable[Listed]) -> Iterator[Marched]:
    """Merge two listings sorted by key: each key once, in order, with the
    source's and the target's file of that key.

    Parameters
    ----------
    source: iterable of (string, flowserv_fsspec.handles.IOHandle)
        Files sorted by key (``iter_walk``).
    target: iterable of (string, flowserv_fsspec.handles.IOHandle)
        Files sorted by key (``iter_walk``).

    Returns
    -------
    iterator of (string, IOHandle or None, IOHandle or None)

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        A listing that is not sorted by key (a merge would miss its files).
    """
    mine, theirs = ordered(source), ordered(target)
    a, b = next(mine, None), next(theirs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], a[1], None  # type: ignore[index]
            a = next(mine, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, b[1]
            b = next(theirs, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(mine, None), next(theirs, None)


def ordered(files: Iterable[Listed]) -> Iterator[Listed]:
    """Pass a listing through, checking that its keys increase."""
    last: Optional[str] = None
    for key, file in files:
        if last is not None and key <= last:
            raise UnsafeOperationError(
                f'merge of listings at {key!r}', f'the listing is not sorted: {last!r} came first'
            )
        last = key
        yield key, file
