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
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Deque, Dict, Optional, Union

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
