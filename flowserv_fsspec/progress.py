"""What a copy did so far: the files of a plan taken and copied
(:class:`Progress`), and handles whose reads tell a progress callback their
bytes as they happen (:class:`Metered`); :func:`stream_into` is the one way
to copy that every volume understands (``store()`` of each handle), with
its progress.
"""

from __future__ import annotations

import io
import tempfile
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, cast

from fsspec.callbacks import Callback

from flowserv_fsspec.errors import TransferError, VolumeNotFoundError
from flowserv_fsspec.handles import IOHandle, Modified, ReaderOver, modified_of, read_stream
from flowserv_fsspec.plan import Pair
from flowserv_fsspec.translate import typed_error


HELD_KEYS = 100_000
"""Keys a :class:`KeyLog` holds in memory; the rest go to a temporary file."""


class KeyLog:
    """The destination keys a copy wrote, in order: the first HELD_KEYS in
    memory, the rest in a temporary file (a key a line: keys hold no control
    characters), so that a copy of millions of files holds a bounded number.
    """

    def __init__(self) -> None:
        """Initialize an empty log."""
        self.held: List[str] = list()
        self.spilled: Optional[IO[str]] = None
        self.count = 0

    def append(self, key: str) -> None:
        """Record a key."""
        self.count += 1
        if len(self.held) < HELD_KEYS:
            self.held.append(key)
            return
        if self.spilled is None:
            self.spilled = tempfile.TemporaryFile('w+', encoding='utf-8', errors='surrogatepass')
        self.spilled.write(key + '\n')

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        yield from self.held
        if self.spilled is not None:
            self.spilled.seek(0)
            yield from (line[:-1] for line in self.spilled)
            self.spilled.seek(0, io.SEEK_END)


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
        self.done = KeyLog()
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

    def stopped(self, error: BaseException, rest: Iterable[Pair], source: str) -> TransferError:
        """Get the error of a copy that stopped part way: the files done, and
        those not copied (taken and not finished, and the rest of the plan,
        listed now as far as the listing goes).

        Parameters
        ----------
        error: Exception
            What stopped the copy.
        rest: iterable of (string, IOHandle, string)
            The rest of the plan.
        source: string
            Description of the source volume.

        Returns
        -------
        flowserv_fsspec.errors.TransferError
        """
        pending = list(self.taken)
        try:
            pending.extend(dstkey for _, _, dstkey in rest)
        except Exception:  # the listing broke (what stopped the copy): keys seen so far
            pass
        failed = getattr(error, 'key', None) or (pending[0] if pending else '')
        return TransferError(failed, source, self.volume, list(self.done), pending, error)

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
    progress: flowserv_fsspec.progress.Progress
        Record of the keys written.
    """
    for pair in pairs:
        _, file, dstkey = pair
        if progress.callback is not None:
            file = Metered(file, progress.callback)
        target.store(file=file, dst=dstkey)
        progress.finished([pair], [None], 0)
