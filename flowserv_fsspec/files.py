"""File handles of fsspec filesystems.

:class:`FsspecFile` is what ``load()`` and ``walk()`` of every fsspec-backed
volume give: it knows its filesystem, path and (from the listing) size, so a
copy can read it in bulk or server-side. :class:`StreamedFile` reads one
front to back in large blocks, for a copy of a big file.
"""

import io
from typing import IO, Any, Optional, Tuple

from fsspec import AbstractFileSystem

from flowserv_fsspec.errors import StorageError
from flowserv_fsspec.handles import COPY_CHUNK, IOHandle
from flowserv_fsspec.parts import PartReader, Parts
from flowserv_fsspec.translate import translate_errors


READ_BLOCK_SIZE = 4 * 1024 * 1024
"""Read-ahead of handles opened by ``stream()``: a small read of a big object
fetches at most this much (s3fs would otherwise fetch 50 MiB)."""

STREAM_BLOCK_SIZE = 8 * 1024 * 1024
"""Block size of reads when a large file is streamed whole into another volume
from a filesystem that is not async."""

VERSION_FIELDS = (
    'size', 'ETag', 'etag', 'generation', 'version_id', 'mtime', 'LastModified',
    'last_modified', 'updated',
)
"""Fields of ``fs.info`` that change when a file is replaced, on some backend."""


class FsspecFile(IOHandle):
    """Handle for a file of an fsspec filesystem.

    ``open()`` reads the file into a BytesIO (one request); ``stream()``
    streams through ``fs.open`` with a bounded read-ahead; ``size()`` uses
    the size that a listing already returned, or one metadata request,
    never a download.
    """

    def __init__(
        self, fs: AbstractFileSystem, path: str, key: str, volume: str,
        size: Optional[int] = None, parts: Optional[Parts] = None
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
        parts: flowserv_fsspec.parts.Parts, default=None
            How the whole file is read in parts when it is big (see
            ``read_in_parts``); None: in one stream.
        """
        self.fs = fs
        self.path = path
        self.key = key
        self.volume = volume
        self._size = size
        self.parts = parts

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

    def read_in_parts(self) -> IO[bytes]:
        """Open the file for reading front to back with up to
        ``parts.concurrency`` ranged reads of ``parts.size`` bytes in flight
        (async filesystems only). The file's version is read first and checked
        again at the end: a file replaced meanwhile is an error, not a mix of
        two versions.

        Returns
        -------
        typing.IO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        before = self._version()

        def verify() -> None:
            if self._version() != before:
                raise StorageError(self.key, self.volume, OSError('the file changed while read'))

        async def fetch(start: int, end: int) -> bytes:
            data: bytes = await self.fs._cat_file(self.path, start=start, end=end)
            return data

        reader = PartReader(
            self.fs.loop, fetch, self.size(), self.parts or Parts(), self.key, self.volume, verify
        )
        return io.BufferedReader(reader, buffer_size=COPY_CHUNK)

    def _version(self) -> Tuple[Any, ...]:
        """Get what tells two versions of the file apart, with one metadata request."""
        with translate_errors(self.key, self.volume):
            self.fs.invalidate_cache(self.path)
            info = self.fs.info(self.path)
        return tuple(info.get(name) for name in VERSION_FIELDS)

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
    """A file read whole, front to back: in concurrent parts, or in
    STREAM_BLOCK_SIZE blocks (fewer requests than the small read-ahead of
    ``FsspecFile.stream``).
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
        """Open the file for reading front to back: in concurrent parts when it
        is bigger than one part on an async filesystem, else in large blocks.
        """
        parts = self.file.parts
        if parts is not None and self.file.fs.async_impl and self.file.size() > parts.size:
            return self.file.read_in_parts()
        with translate_errors(self.file.key, self.file.volume):
            handle: IO[bytes] = self.file.fs.open(
                self.file.path, 'rb', block_size=STREAM_BLOCK_SIZE
            )
        return handle

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        return self.file.size()
