"""File handles of the storage-volume contract: ``IOHandle`` (what ``load``
and ``walk`` give and ``store`` takes), ``IOBuffer`` (bytes in memory),
:func:`read_stream` (streamed reading of any handle, flowserv's included)
and :func:`copy_into` (a handle's bytes into an open file).
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import shutil
import stat
from abc import ABCMeta, abstractmethod
from typing import IO, Any, Callable, NamedTuple, Optional


COPY_CHUNK = 1024 * 1024
"""Bytes moved per read/write when a file is streamed somewhere."""


class Modified(NamedTuple):
    """When a file was last modified, as its storage tells."""

    seconds: float
    """POSIX time."""
    kept: bool
    """True where the storage keeps a time that writes set (a local file's
    mtime, the ``mtime`` metadata an upload of this library gave an object,
    as rclone does): a copy then has its source's time. False where it is
    the time the storage wrote the file (an object's upload time)."""


def modified_of(file: Any) -> Optional[Modified]:
    """Get a handle's modification time (None for handles of other libraries,
    and where the storage tells none).
    """
    return file.modified() if isinstance(file, IOHandle) else None


class IOHandle(metaclass=ABCMeta):
    """Handle for a file of a storage volume (or any other byte source).

    A handle does not hold the file's contents: ``open()`` gives the whole
    file as an ``io.BytesIO`` (flowserv's contract, which flowserv's own code
    relies on), ``stream()`` a streamed binary file that reads ahead a bounded
    block, and ``size()`` the number of bytes.
    """

    __slots__ = ()  # a listing makes one handle per file: subclasses may keep theirs small

    @abstractmethod
    def open(self) -> io.BytesIO:
        """Get the file's contents as a BytesIO, positioned at the start.

        The whole file is read: use ``stream()`` for large files.

        Returns
        -------
        io.BytesIO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
            If the file no longer exists.
        """
        raise NotImplementedError()  # pragma: no cover

    def stream(self) -> IO[bytes]:
        """Get a readable binary file object, positioned at the start, that
        reads the file in bounded blocks as it is consumed.

        Handles whose bytes are already in memory give ``open()``.

        Returns
        -------
        typing.IO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
            If the file no longer exists.
        """
        return self.open()

    @abstractmethod
    def size(self) -> int:
        """Get size of the file in the number of bytes.

        Returns
        -------
        int
        """
        raise NotImplementedError()  # pragma: no cover

    def modified(self) -> Optional[Modified]:
        """Get when the file was last modified, where the storage tells (see
        :class:`Modified`); None here.

        Returns
        -------
        flowserv_fsspec.handles.Modified or None
        """
        return None

    def ask_modified(self) -> Optional[concurrent.futures.Future[None]]:
        """Start asking the storage for the modification time, where
        ``modified()`` would send a request for it, so that many files' times
        are asked for at once (a sync does); None where there is no request
        to send (here).

        The request only prepares ``modified()``: a request that fails leaves
        ``modified()`` to ask again, and to raise the error.

        Returns
        -------
        concurrent.futures.Future or None
        """
        return None

    def download_to(self, fd: int, advance: Optional[Callable[[int], None]] = None) -> bool:
        """Write the whole file into an open regular file by offsets, if this
        handle has a faster way than a stream (big files of object stores: in
        concurrent parts); most handles have not.

        Parameters
        ----------
        fd: int
            Descriptor of the file written, empty.
        advance: callable, default=None
            Told the bytes written as they are.

        Returns
        -------
        bool
            Whether the file was written (False: stream it instead).
        """
        return False


class IOBuffer(IOHandle):
    """Implementation of the file object interface for bytes IO buffers."""

    def __init__(self, buf: io.BytesIO):
        """Initialize the IO buffer.

        Parameters
        ----------
        buf: io.BytesIO
            IO buffer containing the file contents.
        """
        self.buf = buf

    def open(self) -> io.BytesIO:
        """Get a BytesIO of the buffer's contents, positioned at the start.

        Each call gives a new BytesIO over the same bytes (no copy while
        neither is written to), so closing it, as ``store()`` does, leaves the
        buffer usable: the handle can be stored again.

        Returns
        -------
        io.BytesIO
        """
        return io.BytesIO(self.buf.getvalue())

    def size(self) -> int:
        """Get size of the file in the number of bytes.

        Returns
        -------
        int
        """
        return int(self.buf.getbuffer().nbytes)


def read_stream(file: Any) -> IO[bytes]:
    """Open any handle for streamed reading: ``stream()`` of this library's
    handles, ``open()`` of other libraries' (flowserv's).

    Parameters
    ----------
    file: flowserv_fsspec.base.IOHandle or flowserv.volume.base.IOHandle
        A file handle.

    Returns
    -------
    typing.IO
    """
    return file.stream() if isinstance(file, IOHandle) else file.open()


def copy_into(file: Any, out: IO[bytes]) -> None:
    """Write a handle's bytes into a new, writable binary file: by offsets if
    it is a regular file and the handle has a faster way (``download_to``),
    else streamed COPY_CHUNK bytes at a time.

    Parameters
    ----------
    file: flowserv_fsspec.handles.IOHandle or flowserv.volume.base.IOHandle
        A file handle.
    out: typing.IO
        Open binary file to write to.
    """
    fd = regular_file(out)
    if fd is not None and isinstance(file, IOHandle):
        out.flush()
        if file.download_to(fd):
            return
    with read_stream(file) as src:
        shutil.copyfileobj(src, out, COPY_CHUNK)


def regular_file(out: Any) -> Optional[int]:
    """Give the descriptor of an open file that is a regular file, or None."""
    try:
        fd: int = out.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


class ReaderOver(io.RawIOBase):
    """A readable binary file that reads another one: each read passes
    through :meth:`read_raw` (subclasses add to it); the descriptor, the
    position and closing are the other file's.
    """

    def __init__(self, raw: IO[bytes]):
        """Initialize with the file read from."""
        super().__init__()
        self.raw = raw

    def readable(self) -> bool:
        """Say yes: the file is readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill a buffer with one read of the file."""
        data = self.read_raw(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """Read the rest of the file with one read (not in 8 KiB steps)."""
        return self.read_raw(-1)

    def read_raw(self, size: int) -> bytes:
        """Read up to ``size`` bytes of the file (all of the rest for -1)."""
        return self.raw.read(size)

    def fileno(self) -> int:
        """Give the descriptor of the file read from (if it has one)."""
        return self.raw.fileno()

    def tell(self) -> int:
        """Give the position in the file read from."""
        return self.raw.tell()

    def close(self) -> None:
        """Close the file read from."""
        if not self.closed:
            self.raw.close()
        super().close()
