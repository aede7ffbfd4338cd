"""File handles of fsspec filesystems.

:class:`FsspecFile` is what ``load()`` and ``walk()`` of every fsspec-backed
volume give: it knows its filesystem, path and (from the listing) size, so a
copy can read it in bulk or server-side. :class:`StreamedFile` reads one
front to back in large blocks, for a copy of a big file.
"""

import contextlib
import copy
import datetime
import io
from typing import IO, Any, Callable, Dict, Optional, Tuple, cast

from fsspec import AbstractFileSystem

from flowserv_fsspec.concurrency import is_async
from flowserv_fsspec.errors import StorageError
from flowserv_fsspec.handles import COPY_CHUNK, IOHandle, Modified, ReaderOver
from flowserv_fsspec.parts import PartReader, Parts, Ranges, download_to_file
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


TIME_FIELDS = ('mtime', 'LastModified', 'last_modified', 'modified', 'updated', 'created')
"""Fields of listings and ``fs.info`` that tell when a file was modified, on
some backend (local: ``mtime``; S3: ``LastModified``; Azure:
``last_modified``; WebDAV: ``modified``; GCS: ``updated``; memory:
``created``)."""


def listed_time(info: Dict[str, Any]) -> Optional[float]:
    """Get the modification time (POSIX seconds) that a listing gives, if any.

    Parameters
    ----------
    info: dict
        Details of a file from a listing or ``fs.info``.

    Returns
    -------
    float or None
    """
    for name in TIME_FIELDS:
        value = info.get(name)
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            return value.timestamp()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.datetime.fromisoformat(value.replace('Z', '+00:00')).timestamp()
    return None


def version_of(info: Dict[str, Any]) -> Tuple[Any, ...]:
    """Get what tells two versions of a file apart from its details."""
    return tuple(info.get(name) for name in VERSION_FIELDS)


class FsspecFile(IOHandle):
    """Handle for a file of an fsspec filesystem.

    ``open()`` reads the file into a BytesIO (one request); ``stream()``
    streams through ``fs.open`` with a bounded read-ahead; ``size()`` uses
    the size that a listing already returned, or one metadata request,
    never a download.
    """

    __slots__ = ('fs', 'path', 'key', 'volume', '_size', 'parts', '_mtime')

    def __init__(
        self, fs: AbstractFileSystem, path: str, key: str, volume: str,
        size: Optional[int] = None, parts: Optional[Parts] = None,
        mtime: Optional[Modified] = None
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
        mtime: flowserv_fsspec.handles.Modified, default=None
            Modification time, when known from a listing.
        """
        self.fs = fs
        self.path = path
        self.key = key
        self.volume = volume
        self._size = size
        self.parts = parts
        self._mtime = mtime

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

    def stream(self, block_size: int = READ_BLOCK_SIZE) -> IO[bytes]:
        """Open the file for streamed reading: a small read of a big file
        fetches at most ``block_size`` bytes.

        Parameters
        ----------
        block_size: int, default=READ_BLOCK_SIZE
            Bytes fetched per read request.

        Returns
        -------
        typing.IO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        with translate_errors(self.key, self.volume):
            self.fs.invalidate_cache(self.path)
            handle: IO[bytes] = self.fs.open(self.path, 'rb', block_size=block_size)
        return cast(IO[bytes], TypedReader(handle, self.key, self.volume))

    def read_in_parts(self) -> IO[bytes]:
        """Open the file for reading front to back with up to
        ``parts.concurrency`` ranged reads of ``parts.size`` bytes in flight
        (async filesystems only), all of one version of the file (see
        ``ranges``).

        Returns
        -------
        typing.IO

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        ranges = self.ranges()
        return io.BufferedReader(PartReader(ranges, self.parts or Parts()), COPY_CHUNK)

    def download_to(self, fd: int, advance: Optional[Callable[[int], None]] = None) -> bool:
        """Write a big file of an object store into an open regular file, each
        part where it belongs as soon as it arrives (no part waits for an
        earlier one), with up to ``parts.concurrency`` ranged reads of
        ``parts.size`` bytes in flight, all of one version of the file.

        Parameters
        ----------
        fd: int
            Descriptor of the file written (at offsets from 0).
        advance: callable, default=None
            Told the bytes of each part written.

        Returns
        -------
        bool
            False (nothing written) for a file that is not read in parts.

        Raises
        ------
        flowserv_fsspec.errors.VolumeError
        """
        if not self.in_parts():
            return False
        download_to_file(self.ranges(), self.parts or Parts(), fd, advance)
        return True

    def in_parts(self) -> bool:
        """Whether the whole file is read in concurrent parts: bigger than one
        part, on an async filesystem of a volume with part settings.
        """
        parts = self.parts
        return parts is not None and is_async(self.fs) and self.size() > parts.size

    def ranges(self) -> Ranges:
        """Get the reads of byte ranges of this version of the file: its
        version (one metadata request) is checked again after the last range,
        so a file replaced meanwhile is an error, not a mix of two versions
        (backends that can pin each read to a version override it).

        Returns
        -------
        flowserv_fsspec.parts.Ranges
        """
        info = self._info()
        before = version_of(info)

        def verify() -> None:
            if version_of(self._info()) != before:
                raise StorageError(self.key, self.volume, OSError('the file changed while read'))

        async def fetch(start: int, end: int) -> bytes:
            data: bytes = await self.fs._cat_file(self.path, start=start, end=end)
            return data

        # The length of the version read, not the listed one: a file replaced
        # since the listing is copied whole, never cut to the old length.
        return Ranges(self.fs.loop, fetch, int(info['size']), self.key, self.volume, verify)

    def _info(self) -> Dict[str, Any]:
        """Get the file's details, with one metadata request."""
        with translate_errors(self.key, self.volume):
            self.fs.invalidate_cache(self.path)
            info: Dict[str, Any] = self.fs.info(self.path)
        return info

    async def read_head(self, end: int) -> bytes:
        """Read the bytes before ``end`` (all of a file shorter than that), in
        one request (async filesystems).

        Parameters
        ----------
        end: int
            Offset of the first byte not read.

        Returns
        -------
        bytes
        """
        data: bytes = await self.fs._cat_file(self.path, start=0, end=end)
        return data

    def modified(self) -> Optional[Modified]:
        """Get the file's modification time from the listing that found it.

        Returns
        -------
        flowserv_fsspec.handles.Modified or None
        """
        return self._mtime

    def again(self) -> 'FsspecFile':
        """Get a handle of the file as it is now: its size is asked for again
        (the listed one is outdated).

        Returns
        -------
        flowserv_fsspec.files.FsspecFile
        """
        handle = copy.copy(self)
        handle._size = None
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


class TypedReader(ReaderOver):
    """A stream whose read errors are typed (a file deleted while it is read
    gives ``UnknownFileError``, not the backend's own exception).
    """

    def __init__(self, raw: IO[bytes], key: str, volume: str):
        """Initialize with the stream, and the key and volume it reads."""
        super().__init__(raw)
        self.key = key
        self.volume = volume

    def read_raw(self, size: int) -> bytes:
        """Read from the stream, translating errors."""
        with translate_errors(self.key, self.volume):
            return super().read_raw(size)


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
        if self.file.in_parts():
            return self.file.read_in_parts()
        return self.file.stream(STREAM_BLOCK_SIZE)

    def download_to(self, fd: int, advance: Optional[Callable[[int], None]] = None) -> bool:
        """Write the file into an open regular file in concurrent parts, when it
        is big and on an object store; else do nothing (see ``FsspecFile``).

        Returns
        -------
        bool
            Whether the file was written.
        """
        return self.file.download_to(fd, advance)

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        return self.file.size()

    def modified(self) -> Optional[Modified]:
        """Get the file's modification time."""
        return self.file.modified()
