"""What a copy will do, checked before any write, and what it did.

A plan is a list of :data:`Pair` (source key, handle, destination key), made
from one ``walk()`` of the source by :func:`destinations`. The checks here
refuse a plan that would lose data before anything is written;
:class:`Progress` records the destination keys written and tells a
callback the bytes; :func:`stream_into` is the one way to copy that every
volume understands (``store()`` of each handle).
"""

import io
from typing import IO, Any, Callable, Dict, List, Optional, Tuple, cast

from fsspec.callbacks import Callback

from flowserv_fsspec.errors import UnsafeOperationError, VolumeNotFoundError
from flowserv_fsspec.handles import IOHandle, Modified, ReaderOver, modified_of, read_stream
from flowserv_fsspec.keys import join_key, normalize_key
from flowserv_fsspec.translate import typed_error


Pair = Tuple[str, IOHandle, str]
"""A source key, its handle and the destination key."""


def destinations(
    path: Optional[str], files: List[Tuple[str, IOHandle]], dst: Optional[str]
) -> List[Pair]:
    """Give the files that ``walk(path)`` found their destination keys
    (flowserv's rules): the file at ``path`` itself goes to ``dst`` (or its
    own key), the files of a folder keep their path below it, under ``dst``;
    on object stores ``path`` can name a file and a folder at once.

    Parameters
    ----------
    path: string
        Source key that was walked ('' or None for the whole volume).
    files: list of (string, flowserv_fsspec.handles.IOHandle)
        The result of ``source.walk(path)``.
    dst: string
        Destination key.

    Returns
    -------
    list of (string, flowserv_fsspec.handles.IOHandle, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    """
    prefix = path.rstrip('/') + '/' if path else ''
    pairs = [
        (key, file, (dst if dst is not None else key) if key == path
         else join_key(dst, key[len(prefix):]))
        for key, file in files
    ]
    return [(key, file, normalize_key(dstkey)) for key, file, dstkey in pairs]


def refuse_duplicates(pairs: List[Pair], volume: str) -> None:
    """Refuse a plan that would write one destination key twice.

    Parameters
    ----------
    pairs: list of (string, flowserv_fsspec.handles.IOHandle, string)
        The plan.
    volume: string
        Description of the target volume (for the message).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    sources: Dict[str, str] = dict()
    for key, _, dstkey in pairs:
        if dstkey in sources:
            raise UnsafeOperationError(
                f'copy to {volume}',
                f'{sources[dstkey]!r} and {key!r} would both be written to {dstkey!r}'
            )
        sources[dstkey] = key


def refuse_file_folder_clashes(pairs: List[Pair], volume: str) -> None:
    """Refuse a plan that would make one key a file and the folder of
    another: storage with folders cannot hold both (object stores can).

    Parameters
    ----------
    pairs: list of (string, flowserv_fsspec.handles.IOHandle, string)
        The plan.
    volume: string
        Description of the target volume (for the message).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    sources = {dstkey: key for key, _, dstkey in pairs}
    for dstkey in sources:
        parent = dstkey.rpartition('/')[0]
        while parent:
            if parent in sources:
                raise UnsafeOperationError(
                    f'copy to {volume}',
                    f'{parent!r} would be a file and the folder of {dstkey!r} '
                    f'(from {sources[parent]!r} and {sources[dstkey]!r})'
                )
            parent = parent.rpartition('/')[0]


class Progress:
    """The destination keys copied so far, and the bytes told to a callback."""

    def __init__(self, volume: str, callback: Optional[Callback]):
        """Initialize with the target volume and an optional progress callback.

        Parameters
        ----------
        volume: string
            Description of the target volume (for error messages).
        callback: fsspec.callbacks.Callback, default=None
            Told each copied file's bytes (sizes are only asked for when given).
        """
        self.volume = volume
        self.callback = callback
        self.done: List[str] = list()

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
        self.done.extend(dstkey for _, _, dstkey in copied)
        if self.callback is not None:
            if nbytes is None:
                nbytes = sum(file.size() for _, file, _ in copied)
            self.callback.relative_update(nbytes)
        for (_, _, dstkey), error in zip(batch, outcomes):
            if error is not None:
                # Read errors are typed already: a missing path here is the target's.
                raise typed_error(error, dstkey, self.volume, VolumeNotFoundError) from error


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


def stream_into(target: Any, pairs: List[Pair], progress: Progress) -> None:
    """Copy files one by one with ``target.store()``, which streams each;
    a progress callback hears the bytes as they are read.

    Parameters
    ----------
    target: flowserv_fsspec.base.StorageVolume or flowserv.volume.base.StorageVolume
        Volume to write to (any volume that has ``store``).
    pairs: list of (string, flowserv_fsspec.handles.IOHandle, string)
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
