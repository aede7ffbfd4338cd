"""Big files in parts: a bounded number of parts in flight at once.

Downloads: the ranged reads of one version of a file (:class:`Ranges`) run
on the filesystem's event loop (s3fs, gcsfs and adlfs are async), up to
``concurrency`` at once, either written at their offsets into a local file
as they arrive (:func:`download_to_file`) or read front to back as a stream
(:class:`PartReader`, for any other target). Uploads: S3 multipart uploads
with as many parts in flight (``S3Writes``), whose parts are slices of the
source file itself (:class:`FileSlice`, nothing held in memory) or, for
other sources, bytes read part by part (:func:`upload_parts`). Memory stays
within about ``concurrency x size`` bytes, whatever the file's size.
:class:`~flowserv_fsspec.concurrency.Window` is the one mechanism of all:
coroutines submitted from the caller's thread, at most a fixed number
running, results taken in submission order (streams) or as they come.

The settings are the storage options ``part_size`` and ``max_concurrency``
of the object-store volumes (:class:`Parts`).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from dataclasses import dataclass
from typing import IO, Any, Callable, Coroutine, Dict, Iterator, Optional, Tuple, Union

from flowserv_fsspec.concurrency import Window
from flowserv_fsspec.errors import InvalidConfigurationError
from flowserv_fsspec.translate import typed_error


LOG = logging.getLogger(__name__)

DEFAULT_PART_SIZE = 8 * 1024 * 1024
"""Bytes per part (aws cli's default): S3 takes parts of 5 MiB to 5 GiB."""

DEFAULT_CONCURRENCY = 8
"""Parts in flight at once, per file."""

READ_ATTEMPTS = 3
"""Tries of one ranged read whose response broke off (the HTTP client retries
failed requests, not a body that stopped half way)."""


@dataclass(frozen=True)
class Parts:
    """How big files move: the part size and the parts in flight."""

    size: int = DEFAULT_PART_SIZE
    """Bytes per part."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Parts in flight at once."""

    @classmethod
    def take(cls, options: Dict[str, Any]) -> Parts:
        """Take the storage options ``part_size`` and ``max_concurrency`` out
        of a backend's options (defaults where missing).

        Parameters
        ----------
        options: dict
            Storage options given by the caller (both are removed).

        Returns
        -------
        flowserv_fsspec.parts.Parts

        Raises
        ------
        flowserv_fsspec.errors.InvalidConfigurationError
        """
        size = options.pop('part_size', DEFAULT_PART_SIZE)
        concurrency = options.pop('max_concurrency', DEFAULT_CONCURRENCY)
        if not _is_int(size) or not 5 * 2**20 <= size <= 5 * 2**30:
            raise InvalidConfigurationError('option part_size', size, 'expected 5 MiB to 5 GiB')
        if not _is_int(concurrency) or not 1 <= concurrency <= 64:
            raise InvalidConfigurationError(
                'option max_concurrency', concurrency, 'expected 1 to 64'
            )
        return cls(size, concurrency)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Fetch = Callable[[int, int], Coroutine[Any, Any, Union[bytes, bytearray]]]
"""A coroutine function giving the bytes from start to end (exclusive)."""


@dataclass
class Ranges:
    """The ranged reads of one version of a file."""

    loop: asyncio.AbstractEventLoop
    """The filesystem's event loop (running in its own thread)."""
    fetch: Fetch
    """Coroutine function giving the bytes from start to end (exclusive)."""
    length: int
    """Size of the file."""
    key: str
    """Key of the file (for error messages)."""
    volume: str
    """Description of the volume (for error messages)."""
    verify: Optional[Callable[[], None]] = None
    """Called after the last range: raises if the file changed meanwhile (for
    filesystems whose reads cannot be pinned to one version)."""

    def starts(self, size: int) -> range:
        """Give the offsets of parts of ``size`` bytes."""
        return range(0, self.length, size)

    async def read(self, start: int, end: int) -> Union[bytes, bytearray]:
        """Read bytes start to end, again when the response broke off (up to
        READ_ATTEMPTS); a part of the wrong length is an error.
        """
        attempt = 1
        while True:
            try:
                data = await self.fetch(start, end)
                break
            except (FileNotFoundError, PermissionError):
                raise
            except Exception as ex:
                if attempt == READ_ATTEMPTS:
                    raise
                LOG.debug(
                    'bytes %d-%d of %r in %s broke off (%s): attempt %d of %d', start, end,
                    self.key, self.volume, ex, attempt + 1, READ_ATTEMPTS
                )
                await asyncio.sleep(0.2 * 2 ** attempt)
                attempt += 1
        if len(data) != end - start:
            raise OSError(f'bytes {start}-{end} gave {len(data)}: the file changed while read')
        return data

    async def located(self, start: int, end: int) -> Tuple[int, Union[bytes, bytearray]]:
        """Read bytes start to end; give them with their offset."""
        return start, await self.read(start, end)

    def failed(self, error: Exception) -> BaseException:
        """Give the typed error, naming the file, of a failed read."""
        return typed_error(error, self.key, self.volume)


class PartReader(io.RawIOBase):
    """A file read front to back while up to ``concurrency`` ranged reads of
    ``size`` bytes run ahead; errors are typed, naming the file's key.
    """

    def __init__(self, ranges: Ranges, parts: Parts):
        """Initialize and start the first reads.

        Parameters
        ----------
        ranges: flowserv_fsspec.parts.Ranges
            The reads of the file.
        parts: flowserv_fsspec.parts.Parts
            Part size and parts in flight.
        """
        super().__init__()
        self.ranges = ranges
        self.parts = parts
        self.window = Window(ranges.loop, parts.concurrency)
        self._starts = iter(ranges.starts(parts.size))
        self._buffer = memoryview(b'')
        self._schedule()

    def readable(self) -> bool:
        """Say yes: the file is readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill a buffer with the next bytes (fewer at the end of a part).

        Raises
        ------
        flowserv_fsspec.errors.VolumeError
        """
        if not self._buffer:
            if not self.window.pending:
                return 0
            try:
                self._buffer = memoryview(self.window.next_result())
            except Exception as ex:
                self.window.cancel()
                raise self.ranges.failed(ex) from ex
            self._schedule()
            if not self.window.pending and self.ranges.verify is not None:
                self.ranges.verify()
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        """Stop the reads in flight."""
        if not self.closed:
            self.window.cancel()
        super().close()

    def _schedule(self) -> None:
        while not self.window.full():
            start = next(self._starts, None)
            if start is None:
                return
            end = min(start + self.parts.size, self.ranges.length)
            self.window.submit(self.ranges.read(start, end))


def download_to_file(
    ranges: Ranges, parts: Parts, fd: int, advance: Optional[Callable[[int], None]] = None
) -> None:
    """Write a file's ranges into an open file at their offsets as they
    arrive, up to ``parts.concurrency`` in flight: a slow part holds no other
    part's slot (s3transfer's way; a stream must wait for it).

    Raises
    ------
    flowserv_fsspec.errors.VolumeError
    """
    window = Window(ranges.loop, parts.concurrency)

    def write_next() -> None:
        try:
            offset, data = window.any_result()
        except Exception as ex:  # a read failed: named by the source's key
            raise ranges.failed(ex) from ex
        view = memoryview(data)
        while view:
            view = view[os.pwrite(fd, view, offset + len(data) - len(view)):]
        if advance is not None:
            advance(len(data))

    try:
        for start in ranges.starts(parts.size):
            if window.full():
                write_next()
            window.submit(ranges.located(start, min(start + parts.size, ranges.length)))
        while window.pending:
            write_next()
    finally:
        window.cancel()
    if ranges.verify is not None:
        ranges.verify()


def upload_parts(
    src: IO[bytes], size: int, fd: Optional[int] = None
) -> Iterator[Tuple[IO[bytes], int]]:
    """Cut a stream into parts of ``size`` bytes (the last may be shorter),
    each as a readable, seekable body and its length. A regular file is cut
    into slices of itself, read when sent (no part is held in memory, like
    s3transfer's); other streams are read part by part into memory.

    Parameters
    ----------
    src: typing.IO
        The stream, at the position where the upload starts.
    size: int
        Bytes per part.
    fd: int, default=None
        The stream's descriptor if it is a regular file (see
        :func:`flowserv_fsspec.handles.regular_file`).

    Returns
    -------
    iterator of (typing.IO, int)
    """
    if fd is not None:
        start, end = src.tell(), os.fstat(fd).st_size
        for offset in range(start, end, size):
            length = min(size, end - offset)
            yield io.BufferedReader(FileSlice(fd, offset, length), COPY_BUFFER), length
        return
    while True:
        data = read_part(src, size)
        if not data:
            return
        # A reader over the bytes: botocore would wrap bytes in a BytesIO,
        # which aiohttp copies (getbuffer); this one shares them.
        yield io.BufferedReader(io.BytesIO(data), COPY_BUFFER), len(data)


COPY_BUFFER = 64 * 1024
"""Buffer of the readers of upload bodies (aiohttp sends 64 KiB at a time)."""


def read_part(src: IO[bytes], size: int) -> bytes:
    """Read up to ``size`` bytes: fewer only at the end of the stream."""
    chunks, missing = list(), size
    while missing:
        chunk = src.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b''.join(chunks)


class FileSlice(io.RawIOBase):
    """Bytes ``offset`` to ``offset + length`` of an open file, read with
    ``pread`` (independent of the file's position, so slices can be read
    from several threads at once).
    """

    def __init__(self, fd: int, offset: int, length: int):
        """Initialize with the file descriptor and the slice."""
        super().__init__()
        self.fd = fd
        self.offset = offset
        self.length = length
        self.position = 0

    def readable(self) -> bool:
        """Say yes: the slice is readable."""
        return True

    def seekable(self) -> bool:
        """Say yes: botocore reads a body more than once (signature, checksum)."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill a buffer with the next bytes of the slice."""
        count = min(len(buffer), self.length - self.position)
        if count <= 0:
            return 0
        data = os.pread(self.fd, count, self.offset + self.position)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the slice."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        """Give the position within the slice."""
        return self.position
