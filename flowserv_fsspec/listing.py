"""How a volume lists its files as a stream: a backend's listing gives cheap
entries (path, size, modification time) in the order of their paths, and
:func:`files_below` turns them into the keys and handles of ``iter_walk``,
one file at a time.
"""

from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Tuple

from flowserv_fsspec.files import listed_time
from flowserv_fsspec.handles import IOHandle
from flowserv_fsspec.keys import key_cutter


Entry = Tuple[str, Optional[int], Optional[float]]
"""A listed file: its path, and its size and modification time (POSIX
seconds) where the listing gives them."""


def sorted_entries(
    found: Dict[str, Dict[str, Any]], strip: Callable[[str], str]
) -> Iterator[Entry]:
    """Give the files of a listing made in one call (path -> fsspec details)
    as entries, in the order of their paths (``strip``: the filesystem's
    ``_strip_protocol``).
    """
    stripped = ((strip(name), info) for name, info in found.items())
    for name, info in sorted(stripped, key=lambda item: item[0]):
        yield name, info.get('size'), listed_time(info)


def files_below(
    entries: Iterable[Entry], root: str, key: str, path: str,
    is_temporary: Callable[[str], bool], handle: Callable[..., IOHandle]
) -> Iterator[Tuple[str, IOHandle]]:
    """Give the files of a listing of ``key`` (at ``path`` below ``root``) with
    their keys and handles (``handle(path, key, size, seconds)``): the file at
    the key itself and those below it, without temporary files of writes.
    """
    below, cut_key = key + '/' if key else '', key_cutter(root)
    for name, size, seconds in entries:
        if is_temporary(name):
            continue
        filekey = key if name == path and key else cut_key(name)
        if filekey is None or (filekey != key and not filekey.startswith(below)):
            continue
        yield filekey, handle(name, filekey, size, seconds)
