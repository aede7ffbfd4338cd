"""Big files in parts: a bounded number of parts in flight at once.

A big file is read front to back by :class:`PartReader`, which keeps up to
``concurrency`` ranged reads running ahead of the reader on the
filesystem's event loop (s3fs, gcsfs, adlfs and HTTP are async), and is
uploaded to S3 by a multipart upload with as many parts in flight (see
``S3Writes.put``). Both hold about ``concurrency x size`` bytes: memory is
bounded whatever the file's size. :class:`Window` is the one mechanism of
both: coroutines submitted from the caller's thread, at most a fixed number
running, results taken in submission order (reads) or as they come
(uploads).

The settings are the storage options ``part_size`` and ``max_concurrency``
of the object-store volumes (:class:`Parts`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import stat
from collections import deque
from dataclasses import dataclass
from typing import IO, Any, Callable, Coroutine, Deque, Dict, Iterator, Optional, Tuple, Union

from flowserv_fsspec.errors import InvalidConfigurationError
from flowserv_fsspec.translate import typed_error


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


class Window:
    """Coroutines run on an event loop from another thread, at most ``size``
    at once; results are taken in the order of submission.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int):
        """Initialize with the loop (running in its own thread) and the bound."""
        self.loop = loop
        self.size = size
        self.pending: Deque[concurrent.futures.Future[Any]] = deque()

    def full(self) -> bool:
        """Whether ``size`` coroutines are in flight."""
        return len(self.pending) >= self.size

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start a coroutine (the caller checks ``full()`` first)."""
        self.pending.append(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def next_result(self) -> Any:
        """Wait for the oldest coroutine and give its result (or raise its error)."""
        return self.pending.popleft().result()

    def any_result(self) -> Any:
        """Wait for any coroutine to finish and give its result (or raise its
        error): a slow one does not hold the others' slots.
        """
        done, _ = concurrent.futures.wait(
            self.pending, return_when=concurrent.futures.FIRST_COMPLETED
        )
        future = next(iter(done))
        self.pending.remove(future)
        return future.result()

    def cancel(self) -> None:
        """Cancel what is still in flight and wait until it has stopped."""
        for future in self.pending:
            future.cancel()
        concurrent.futures.wait(self.pending)
        self.pending.clear()


Fetch = Callable[[int, int], Coroutine[Any, Any, Union[bytes, bytearray]]]
"""A coroutine function giving the bytes from start to end (exclusive)."""


class PartReader(io.RawIOBase):
    """A file read front to back while up to ``concurrency`` ranged reads of
    ``size`` bytes run ahead. A read that breaks off is tried again (up to
    READ_ATTEMPTS); a part of the wrong length is an error. Errors are typed,
    naming the file's key.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, fetch: Fetch, length: int, parts: Parts,
        key: str, volume: str, verify: Optional[Callable[[], None]] = None
    ):
        """Initialize and start the first reads.

        Parameters
        ----------
        loop: asyncio.AbstractEventLoop
            The filesystem's event loop (running in its own thread).
        fetch: callable
            Coroutine function giving the bytes from start to end (exclusive).
        length: int
            Size of the file.
        parts: flowserv_fsspec.parts.Parts
            Part size and parts in flight.
        key: string
            Key of the file (for error messages).
        volume: string
            Description of the volume (for error messages).
        verify: callable, default=None
            Called when the last part was read: raises if the file changed
            while it was read (for filesystems whose reads cannot be pinned
            to one version).
        """
        super().__init__()
        self.fetch = fetch
        self.length = length
        self.parts = parts
        self.key = key
        self.volume = volume
        self.verify = verify
        self.window = Window(loop, parts.concurrency)
        self._scheduled = 0
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
                raise typed_error(ex, self.key, self.volume) from ex
            self._schedule()
            if not self.window.pending and self.verify is not None:
                self.verify()
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
        while not self.window.full() and self._scheduled < self.length:
            end = min(self._scheduled + self.parts.size, self.length)
            self.window.submit(self._read_part(self._scheduled, end))
            self._scheduled = end

    async def _read_part(self, start: int, end: int) -> Union[bytes, bytearray]:
        attempt = 1
        while True:
            try:
                data = await self.fetch(start, end)
                break
            except (FileNotFoundError, PermissionError):
                raise
            except Exception:
                if attempt == READ_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * 2 ** attempt)
                attempt += 1
        if len(data) != end - start:
            raise OSError(f'bytes {start}-{end} gave {len(data)}: the file changed while read')
        return data


def upload_parts(src: IO[bytes], size: int) -> Iterator[Tuple[IO[bytes], int]]:
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

    Returns
    -------
    iterator of (typing.IO, int)
    """
    fd = regular_file(src)
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


def regular_file(src: Any) -> Optional[int]:
    """Give the descriptor of a stream that is a regular file, or None."""
    try:
        fd: int = src.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


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
