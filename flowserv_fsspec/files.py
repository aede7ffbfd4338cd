"""File handles of fsspec filesystems.

:class:`FsspecFile` is what ``load()`` and ``walk()`` of every fsspec-backed
volume give: it knows its filesystem, path and (from the listing) size, so a
copy can read it in bulk or server-side. :class:`StreamedFile` reads one
front to back in large blocks, for a copy of a big file.
"""

import io
from typing import IO, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.handles import IOHandle
from flowserv_fsspec.translate import translate_errors


READ_BLOCK_SIZE = 4 * 1024 * 1024
"""Read-ahead of handles opened by ``stream()``: a small read of a big object
fetches at most this much (s3fs would otherwise fetch 50 MiB)."""

STREAM_BLOCK_SIZE = 8 * 1024 * 1024
"""Block size of reads when a large file is streamed whole into another volume."""


class FsspecFile(IOHandle):
    """Handle for a file of an fsspec filesystem.

    ``open()`` reads the file into a BytesIO (one request); ``stream()``
    streams through ``fs.open`` with a bounded read-ahead; ``size()`` uses
    the size that a listing already returned, or one metadata request,
    never a download.
    """

    def __init__(
        self, fs: AbstractFileSystem, path: str, key: str, volume: str,
        size: Optional[int] = None
    ):
        """Initialize the file handle.

        Parameters
        ----------
        fs: fsspec.AbstractFileSystem
            Filesystem that holds the file.
        path: string
            Full path of the file in the filesystem's own form.
        key: string
            Key of the file relative to its volume root (for error messages).
        volume: string
            Description of the volume (for error messages).
        size: int, default=None
            File size, when known from a listing.
        """
        self.fs = fs
        self.path = path
        self.key = key
        self.volume = volume
        self._size = size

    def open(self) -> io.BytesIO:
        """Read the whole file into a BytesIO (flowserv's contract).

        Returns
        -------
        io.BytesIO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        with translate_errors(self.key, self.volume):
            self.fs.invalidate_cache(self.path)
            return io.BytesIO(self.fs.cat_file(self.path))

    def stream(self) -> IO[bytes]:
        """Open the file for streamed reading: a small read of a big file
        fetches at most READ_BLOCK_SIZE bytes.

        Returns
        -------
        typing.IO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        with translate_errors(self.key, self.volume):
            self.fs.invalidate_cache(self.path)
            handle: IO[bytes] = self.fs.open(self.path, 'rb', block_size=READ_BLOCK_SIZE)
        return handle

    def size(self) -> int:
        """Get size of the file in the number of bytes.

        Returns
        -------
        int
        """
        if self._size is None:
            with translate_errors(self.key, self.volume):
                self.fs.invalidate_cache(self.path)
                self._size = int(self.fs.size(self.path))
        return self._size

    def __repr__(self) -> str:
        return f'<FsspecFile {self.key!r} in {self.volume}>'


class StreamedFile(IOHandle):
    """A file read whole, front to back: streamed in STREAM_BLOCK_SIZE blocks
    (fewer requests than the small read-ahead of ``FsspecFile.stream``).
    """

    def __init__(self, file: FsspecFile):
        """Initialize with the handle of the file.

        Parameters
        ----------
        file: flowserv_fsspec.files.FsspecFile
            Handle of the file to read.
        """
        self.file = file

    def open(self) -> io.BytesIO:
        """Read the whole file into a BytesIO."""
        return self.file.open()

    def stream(self) -> IO[bytes]:
        """Open the file for sequential reading in large blocks."""
        with translate_errors(self.file.key, self.file.volume):
            handle: IO[bytes] = self.file.fs.open(
                self.file.path, 'rb', block_size=STREAM_BLOCK_SIZE
            )
        return handle

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        return self.file.size()
