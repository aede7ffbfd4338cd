"""What a copy will do, checked before any write, and what it did.

A plan is a stream of :data:`Pair` (source key, handle, destination key),
made from a streamed listing of the source by :func:`destinations`: a copy
never holds the list of its files. :class:`Refusals` checks a plan that
arrives in the order of its destination keys, holding only the keys that
can still clash with a later one (a chain of prefixes of the current key),
and refuses a plan that would lose data; :func:`refuse_unsafe` runs it
over a whole listing before the first write, where a refusal is possible
(see there). :class:`Progress` follows the files taken from a plan and
copied, and tells a callback the bytes; :func:`stream_into` is the one way
to copy that every volume understands (``store()`` of each handle).
"""

import heapq
import io
from itertools import chain
from operator import itemgetter
from typing import (
    IO,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    cast,
)

from fsspec.callbacks import Callback

from flowserv_fsspec.errors import UnsafeOperationError, VolumeNotFoundError
from flowserv_fsspec.handles import IOHandle, Modified, ReaderOver, modified_of, read_stream
from flowserv_fsspec.keys import join_key, normalize_key
from flowserv_fsspec.translate import typed_error


Pair = Tuple[str, IOHandle, str]
"""A source key, its handle and the destination key."""

Listing = Callable[[Optional[str]], Iterator[Tuple[str, IOHandle]]]
"""A source's streamed listing of a key (``iter_walk``)."""


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


class Progress:
    """The files of a plan taken for copying and those copied, and the bytes
    told to a callback.
    """

    def __init__(
        self, volume: str, callback: Optional[Callback],
        report: Optional[Callable[[str, str], None]] = None
    ):
        """Initialize with the target volume and an optional progress callback.

        Parameters
        ----------
        volume: string
            Description of the target volume (for error messages).
        callback: fsspec.callbacks.Callback, default=None
            Told the bytes of the files taken (``set_size``, growing while the
            plan streams) and of each copied file (sizes are only asked for
            when given).
        report: callable, default=None
            Told the source and destination key of each file copied.
        """
        self.volume = volume
        self.callback = callback
        self.report = report
        self.done: List[str] = list()
        self.taken: Dict[str, None] = dict()
        self.total = 0

    def take(self, pairs: Iterable[Pair]) -> Iterator[Pair]:
        """Pass the files of a plan on, remembering the destination keys
        taken and not yet copied.
        """
        for pair in pairs:
            self.taken[pair[2]] = None
            if self.callback is not None:
                # Sizes of foreign handles may cost a download (flowserv's
                # S3File): only asked for when someone is watching.
                self.total += pair[1].size()
                self.callback.set_size(self.total)
            yield pair

    def finished(
        self, batch: List[Pair], outcomes: List[Optional[BaseException]],
        nbytes: Optional[int] = None
    ) -> None:
        """Record the pairs of a batch that were copied; raise the first
        failure as a typed error naming its destination key.

        Parameters
        ----------
        batch: list of (string, IOHandle, string)
            Source key, handle and destination key of each file.
        outcomes: list of Exception or None
            Each file's error, None where it was copied.
        nbytes: int, default=None
            Bytes copied, when already known.
        """
        copied = [pair for pair, error in zip(batch, outcomes) if error is None]
        for key, _, dstkey in copied:
            self.done.append(dstkey)
            self.taken.pop(dstkey, None)
            if self.report is not None:
                self.report(key, dstkey)
        if self.callback is not None:
            if nbytes is None:
                nbytes = sum(file.size() for _, file, _ in copied)
            self.callback.relative_update(nbytes)
        for (_, _, dstkey), error in zip(batch, outcomes):
            if error is not None:
                # Read errors are typed already: a missing path here is the target's.
                raise typed_error(error, dstkey, self.volume, VolumeNotFoundError) from error

    def pending(self, rest: Iterable[Pair]) -> List[str]:
        """Give the destination keys not copied: those taken and not finished,
        and those of the rest of the plan (listed now, as far as the listing goes).
        """
        keys = list(self.taken)
        try:
            keys.extend(dstkey for _, _, dstkey in rest)
        except Exception:  # the listing broke (what stopped the copy): keys seen so far
            pass
        return keys


class Metered(IOHandle):
    """A handle whose reads tell a progress callback their bytes as they
    happen: a big file moves the progress bar part by part.
    """

    def __init__(self, file: Any, callback: Callback):
        """Initialize with the handle (ours or flowserv's) and the callback."""
        self.file = file
        self.callback = callback

    def open(self) -> io.BytesIO:
        """Read the whole file into a BytesIO, telling its bytes."""
        buffer: io.BytesIO = self.file.open()
        self.callback.relative_update(buffer.getbuffer().nbytes)
        return buffer

    def stream(self) -> IO[bytes]:
        """Open the file for streamed reading, telling each read's bytes."""
        return cast(IO[bytes], MeteredReader(read_stream(self.file), self.callback))

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        size: int = self.file.size()
        return size

    def modified(self) -> Optional[Modified]:
        """Get the file's modification time (that of the handle read)."""
        return modified_of(self.file)

    def download_to(self, fd: int, advance: Optional[Callable[[int], None]] = None) -> bool:
        """Write the file by offsets if the handle can, telling the bytes."""
        return isinstance(self.file, IOHandle) and self.file.download_to(
            fd, self.callback.relative_update
        )


class MeteredReader(ReaderOver):
    """A readable binary file that tells a callback the bytes of each read."""

    def __init__(self, raw: IO[bytes], callback: Callback):
        """Initialize with the file read from and the callback."""
        super().__init__(raw)
        self.callback = callback

    def read_raw(self, size: int) -> bytes:
        """Read from the file and tell the bytes."""
        data = super().read_raw(size)
        self.callback.relative_update(len(data))
        return data

    def advance(self, nbytes: int) -> None:
        """Tell the callback bytes that were read from the file past this
        reader (an upload that reads slices of the file itself).
        """
        self.callback.relative_update(nbytes)


def stream_into(target: Any, pairs: Iterable[Pair], progress: Progress) -> None:
    """Copy files one by one with ``target.store()``, which streams each;
    a progress callback hears the bytes as they are read.

    Parameters
    ----------
    target: flowserv_fsspec.base.StorageVolume or flowserv.volume.base.StorageVolume
        Volume to write to (any volume that has ``store``).
    pairs: iterable of (string, flowserv_fsspec.handles.IOHandle, string)
        Files and their destination keys.
    progress: flowserv_fsspec.plan.Progress
        Record of the keys written.
    """
    for pair in pairs:
        _, file, dstkey = pair
        if progress.callback is not None:
            file = Metered(file, progress.callback)
        target.store(file=file, dst=dstkey)
        progress.finished([pair], [None], 0)
