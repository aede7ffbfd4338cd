"""What a copy will do, checked before any write (what it did so far is
:mod:`flowserv_fsspec.progress`).

A plan is a stream of :data:`Pair` (source key, handle, destination key),
made from a streamed listing of the source by :func:`planned` (with
:func:`destinations`): a copy never holds the list of its files.
:class:`Refusals` checks a plan that arrives in the order of its
destination keys, holding only the keys that can still clash with a later
one (a chain of prefixes of the current key), and refuses a plan that
would lose data; :func:`checked` runs it over the whole plan before the
first write where a refusal is possible (:func:`needs_check`).
"""

import heapq
from itertools import chain, islice
from operator import itemgetter
from typing import (
    Callable,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

from flowserv_fsspec.errors import UnsafeOperationError
from flowserv_fsspec.handles import IOHandle
from flowserv_fsspec.keys import join_key, normalize_key


Pair = Tuple[str, IOHandle, str]
"""A source key, its handle and the destination key."""

Listing = Callable[[Optional[str]], Iterator[Tuple[str, IOHandle]]]
"""A source's streamed listing of a key (``iter_walk``)."""

PLAN_HELD = 10_000
"""Files of a plan held to check it without a second listing (see :func:`checked`)."""


class Ends(NamedTuple):
    """What a plan needs to know of the two volumes of a copy."""

    listing: Listing
    """The source's streamed listing."""
    source_folders: Optional[bool]
    """Whether the source has folders (None: not known)."""
    target_folders: Optional[bool]
    """Whether the target has folders (None: not known)."""
    target: str
    """Description of the target (for messages)."""
    nested: Callable[[str, str], bool]
    """Whether a source key and a target key (normal, '' for a root) lie one
    strictly below the other (``flowserv_fsspec.base.nested``)."""

    def refusals(self) -> 'Refusals':
        """Get the checks of a plan of this copy (see :class:`Refusals`)."""
        return Refusals(self.target, folders=self.target_folders is not False)


def destinations(
    path: Optional[str], files: Iterable[Tuple[str, IOHandle]], dst: Optional[str]
) -> Iterator[Pair]:
    """Give the files that a walk of ``path`` finds their destination keys
    (flowserv's rules), as they arrive: the file at ``path`` itself goes to
    ``dst`` (or its own key), the files of a folder keep their path below
    it, under ``dst``; on object stores ``path`` can name a file and a
    folder at once.

    Parameters
    ----------
    path: string
        Source key that was walked ('' or None for the whole volume).
    files: iterable of (string, flowserv_fsspec.handles.IOHandle)
        The files of ``source.iter_walk(path)`` (or ``walk``).
    dst: string
        Destination key.

    Returns
    -------
    iterator of (string, flowserv_fsspec.handles.IOHandle, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    """
    cut = len(path.rstrip('/')) + 1 if path else 0
    for key, file in files:
        dstkey = (dst if dst is not None else key) if key == path else join_key(dst, key[cut:])
        yield key, file, normalize_key(dstkey)


class Refusals:
    """Refuse, in a plan that arrives sorted by destination key, two files
    for one destination key and (``folders``: on storage with folders) a key
    that would be a file and the folder of another.

    A key ``k`` can only clash with later keys that start with ``k + '/'``;
    in sorted order every key between them starts with ``k`` too. So the
    keys kept are those that are prefixes of the last one: at most one per
    character of a key, whatever the number of files.
    """

    def __init__(self, volume: str, folders: bool):
        """Initialize with the target volume's description and whether it has folders.

        Parameters
        ----------
        volume: string
            Description of the target volume (for messages).
        folders: bool
            Whether to refuse a key that is a file and a folder at once.
        """
        self.what = f'copy to {volume}'
        self.folders = folders
        self.chain: List[Tuple[str, str]] = list()

    def check(self, key: str, dstkey: str) -> None:
        """Check the next file of the plan.

        Parameters
        ----------
        key: string
            Source key.
        dstkey: string
            Destination key (not less than the previous one).

        Raises
        ------
        flowserv_fsspec.errors.UnsafeOperationError
        """
        if self.chain and dstkey < self.chain[-1][0]:
            raise UnsafeOperationError(
                self.what, f'the plan is not sorted: {self.chain[-1][0]!r} came before {dstkey!r}'
            )
        while self.chain and not dstkey.startswith(self.chain[-1][0]):
            self.chain.pop()
        if self.chain and self.chain[-1][0] == dstkey:
            raise UnsafeOperationError(
                self.what, f'{self.chain[-1][1]!r} and {key!r} would both be written to {dstkey!r}'
            )
        for parent, source in self.chain if self.folders else ():
            if dstkey[len(parent)] == '/':
                raise UnsafeOperationError(
                    self.what, f'{parent!r} would be a file and the folder of {dstkey!r} '
                    f'(from {source!r} and {key!r})'
                )
        self.chain.append((dstkey, key))

    def check_all(self, pairs: Iterable[Pair]) -> None:
        """Check a whole plan (sorted by destination key) before its first write.

        Raises
        ------
        flowserv_fsspec.errors.UnsafeOperationError
        """
        for key, _, dstkey in pairs:
            self.check(key, dstkey)


def refuse_unsafe(
    paths: Sequence[Optional[str]], listing: Listing, dst: Optional[str], refusals: Refusals
) -> None:
    """Check the whole plan of a copy before its first write: the source is
    listed once more (one file per source path held at a time), the files of
    all paths merged in the order of their destination keys.

    Parameters
    ----------
    paths: list of string
        The source keys copied.
    listing: callable
        The source's ``iter_walk``.
    dst: string
        Destination key.
    refusals: flowserv_fsspec.plan.Refusals
        The checks.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    refusals.check_all(heapq.merge(*chain.from_iterable(
        sorted_parts(path, destinations(path, listing(path), dst)) for path in paths
    ), key=itemgetter(2)))


def sorted_parts(path: Optional[str], pairs: Iterator[Pair]) -> List[Iterator[Pair]]:
    """Split the plan of one path into streams sorted by destination key: the
    file at the path itself (listed first, its destination is not below the
    others') and the files below it.
    """
    first = next(pairs, None)
    if first is None:
        return []
    if path and first[0] == path:
        return [iter([first]), pairs]
    return [chain([first], pairs)]


def planned(paths: Sequence[Optional[str]], dst: Optional[str], ends: Ends) -> Iterator[Pair]:
    """Stream the files to copy with their destination keys, validated as
    they come (one listing per source path, in turn), checked before the
    first file is given where a refusal could come later (see :func:`checked`).

    Parameters
    ----------
    paths: list of string
        Source keys ('' or None: the whole volume).
    dst: string
        Destination key.
    ends: flowserv_fsspec.plan.Ends
        The volumes of the copy (``flowserv_fsspec.base.ends``).

    Returns
    -------
    iterator of (string, flowserv_fsspec.handles.IOHandle, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    flowserv_fsspec.errors.UnsafeOperationError
    """
    files = chain.from_iterable(destinations(path, ends.listing(path), dst) for path in paths)
    return checked(files, paths, dst, ends)


def checked(
    files: Iterator[Pair], paths: Sequence[Optional[str]], dst: Optional[str], ends: Ends
) -> Iterator[Pair]:
    """Give a plan (``files``, from the listings of ``paths``) on, once it is
    known that no refusal can come after its first write.

    Where one could (:func:`needs_check`), up to PLAN_HELD files are held and
    checked as listed; a longer plan is checked by listing the source again
    (:func:`refuse_unsafe`). The first files are listed and checked now, so
    that a bad key or a refusal is raised by this call.

    Parameters
    ----------
    files: iterator of (string, IOHandle, string)
        The plan, as listed.
    paths: list of string
        The source keys listed.
    dst: string
        Destination key.
    ends: flowserv_fsspec.plan.Ends
        The volumes of the copy.

    Returns
    -------
    iterator of (string, flowserv_fsspec.handles.IOHandle, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    flowserv_fsspec.errors.UnsafeOperationError
        Also for a source and a destination one below the other: a copy
        would list what it writes, or write over what it has still to read
        (refused as by ``cp -r`` and rclone).
    """
    refuse_nested(paths, dst, ends)
    held = list(islice(files, 1))
    first = held[0] if held else None
    if needs_check(paths, first, dst, ends.source_folders, ends.target_folders):
        held.extend(islice(files, PLAN_HELD - 1))
        if len(held) < PLAN_HELD:
            ends.refusals().check_all(sorted(held, key=itemgetter(2)))
        else:
            refuse_unsafe(paths, ends.listing, dst, ends.refusals())
    return chain(held, files)


def refuse_nested(paths: Sequence[Optional[str]], dst: Optional[str], ends: Ends) -> None:
    """Refuse a copy whose destination lies strictly below a source path or
    above it (see :func:`checked`); onto itself, a copy leaves files as they are.
    """
    to = normalize_key(dst, allow_empty=True)
    for path in paths:
        key = normalize_key(path, allow_empty=True)
        if ends.nested(key, to):
            raise UnsafeOperationError(
                f'copy of {repr(key) if key else "the root"} to '
                f'{repr(to) if to else "the root"} of {ends.target}',
                'source and destination overlap (one lies below the other); '
                'copy to a location outside the source'
            )


def needs_check(
    paths: Sequence[Optional[str]], first: Optional[Pair], dst: Optional[str],
    source_folders: Optional[bool], target_folders: Optional[bool]
) -> bool:
    """Whether a plan could be refused somewhere after its first file, so
    that it must be checked whole before anything is written.

    One listing holds each key once; its destination keys keep its order,
    except the file at a path that is also a folder (object stores). So one
    path can only be refused when the source may hold a file and a folder
    under one key (storage without folders) and either the target has folders
    (that clash) or the file at the path keeps its own key (``dst`` None) and
    may meet a file below it with that name. Several paths may name one
    destination twice anywhere.

    Parameters
    ----------
    paths: list of string
        The source keys copied.
    first: (string, IOHandle, string) or None
        The first file of the plan.
    dst: string
        Destination key.
    source_folders: bool or None
        Whether the source has folders (None: unknown).
    target_folders: bool or None
        Whether the target has folders (None: unknown).

    Returns
    -------
    bool
    """
    if len(paths) > 1:
        return True
    at_path = first is not None and bool(paths[0]) and first[0] == paths[0]
    return source_folders is not True and (
        target_folders is not False or (at_path and dst is None)
    )

