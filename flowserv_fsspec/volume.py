"""The storage-volume contract, implemented once against any fsspec filesystem.

:class:`FsspecVolume` maps keys to paths below a root (through
:mod:`flowserv_fsspec.keys`), lists with one ``find`` call, reads through
streamed ``fs.open`` handles and translates backend exceptions in one place
(:func:`translate_errors`). Backend modules only build the filesystem and the
serialized document.
"""

from __future__ import annotations

import functools
import io
import shutil
import time
from typing import IO, Any, Callable, Dict, List, Optional, Tuple

import fsspec
from fsspec import AbstractFileSystem
from fsspec.asyn import _run_coros_in_chunks, sync

from flowserv_fsspec.backends import timeout_option
from flowserv_fsspec.base import IOBuffer, IOHandle, StorageVolume, read_stream
from flowserv_fsspec.cleanup import Leftover
from flowserv_fsspec.documents import FSSPEC_STORE, FsspecStore, read_args
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    InvalidKeyError,
    UnknownFileError,
    VolumeNotFoundError,
)
from flowserv_fsspec.keys import (
    is_temp_path,
    is_within,
    key_to_path,
    normalize_key,
    path_to_key,
    temp_path,
)
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.urls import split_credentials


COPY_CHUNK = 1024 * 1024
"""Bytes moved per read/write when a file is streamed into a volume."""

WRITE_BLOCK_SIZE = 8 * 1024 * 1024
"""Part size of streamed writes: a file larger than this is uploaded in parts
(S3 multipart), so ``store()`` holds about one part in memory (s3fs would
otherwise buffer 50 MiB)."""

READ_BLOCK_SIZE = 4 * 1024 * 1024
"""Read-ahead of handles opened by ``open()``: a small read of a big object
fetches at most this much (s3fs would otherwise fetch 50 MiB)."""


def run_each(
    target: Any, calls: List[Tuple[str, Tuple[Any, ...]]]
) -> List[Optional[BaseException]]:
    """Call one method of a filesystem (or volume) per item; give each item's
    error, or None where the call succeeded.

    Async filesystems run the calls concurrently, ``batch_size`` at a time
    (their ``_name`` coroutines), and every call is tried. Otherwise the calls
    run in turn up to the first failure, whose error then stands for the calls
    that were not tried.

    Parameters
    ----------
    target: fsspec.AbstractFileSystem or flowserv_fsspec.base.StorageVolume
        Object whose methods are called.
    calls: list of (string, tuple)
        Method name and arguments of each call.

    Returns
    -------
    list of Exception or None
    """
    if getattr(target, 'async_impl', False):
        coros = [getattr(target, f'_{name}')(*args) for name, args in calls]
        results = sync(
            target.loop, _run_coros_in_chunks, coros, batch_size=target.batch_size,
            nofiles=True, return_exceptions=True
        )
        return [res if isinstance(res, BaseException) else None for res in results]
    outcomes: List[Optional[BaseException]] = list()
    for name, args in calls:
        try:
            getattr(target, name)(*args)
        except Exception as ex:
            return outcomes + [ex] * (len(calls) - len(outcomes))
        outcomes.append(None)
    return outcomes


def http_options(
    options: Dict[str, Any], username: Optional[str], password: Optional[str]
) -> Dict[str, Any]:
    """Storage options of fsspec's HTTP filesystem: the credentials of the URL
    as basic auth, and the option ``timeout`` (connect and each read; aiohttp
    would wait 5 minutes for a silent server, fsspec's walk twice that).
    """
    import aiohttp
    options = dict(options)
    timeout = timeout_option(options)
    client = dict(options.get('client_kwargs') or {})
    client.setdefault('timeout', aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout))
    if username or password:
        client.setdefault('auth', aiohttp.BasicAuth(username or '', password or ''))
    options['client_kwargs'] = client
    return options


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


class FsspecVolume(StorageVolume):
    """Storage volume for the files below a root path of an fsspec filesystem.

    Every operation maps its key to a path below the root through
    :mod:`flowserv_fsspec.keys`, so no key reaches outside the volume. Cached
    listings of the filesystem are dropped before each access, so the volume
    sees what other clients wrote or deleted.
    """

    has_directories: bool = True
    """Whether the filesystem has real directories (object stores do not:
    ``mkdir`` is a no-op there and never creates a bucket)."""

    def __init__(
        self, fs: AbstractFileSystem, root: str = '', identifier: Optional[str] = None
    ):
        """Initialize the filesystem and the root path.

        Parameters
        ----------
        fs: fsspec.AbstractFileSystem
            Filesystem that holds the volume's files.
        root: string, default=''
            Root path of the volume in the filesystem (with or without
            protocol).
        identifier: string, default=None
            Unique volume identifier.
        """
        super().__init__(identifier=identifier)
        self.fs = fs
        self.root: str = fs._strip_protocol(root)

    # -- Paths ----------------------------------------------------------------

    def _resolve(self, key: Optional[str], allow_empty: bool = False) -> Tuple[str, str]:
        """Validate a key, map it to its path and drop cached listings of it.

        Returns the normalized key and the path.
        """
        key = normalize_key(key, allow_empty=allow_empty)
        path = key_to_path(self.root, key)
        self.fs.invalidate_cache(path)
        return key, path

    def _find(self, path: str, key: str) -> Dict[str, Dict[str, Any]]:
        """List the files at or below a path, with their details, in one call."""
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            found = self.fs.find(path, withdirs=False, detail=True)
        # adlfs answers a list of names, without details, for a single file.
        return found if isinstance(found, dict) else {name: {} for name in found}

    def _handle(self, path: str, key: str, size: Optional[int]) -> FsspecFile:
        """Build the handle for a file (hook for backends with their own handle)."""
        return FsspecFile(self.fs, path, key, self.describe(), size=size)

    def copy_within(
        self, files: List[FsspecFile], paths: List[str]
    ) -> List[Optional[BaseException]]:
        """Copy files of this volume's filesystem to paths of it, server-side
        (hook for backends with a cheaper copy). Object stores copy whole
        objects, concurrently on async filesystems; filesystems with folders
        copy to a temporary name and rename, like ``store()``.

        Parameters
        ----------
        files: list of flowserv_fsspec.volume.FsspecFile
            Source files on ``self.fs``, with their sizes.
        paths: list of string
            Destination paths on ``self.fs``, already validated.

        Returns
        -------
        list of Exception or None
            Each file's error, None where it was copied (see :func:`run_each`).
        """
        if self.has_directories:
            return run_each(self, [('_copy_file', (f.path, p)) for f, p in zip(files, paths)])
        return run_each(self.fs, [('cp_file', (f.path, p)) for f, p in zip(files, paths)])

    def _copy_file(self, source: str, path: str) -> None:
        """Copy one file server-side to a temporary name, then rename it into place."""
        key = path_to_key(self.root, path) or path
        self._check_writable(key, path)
        self._clear_folder_at(key, path)
        self._write_and_rename(path, lambda temp: self.fs.cp_file(source, temp))

    def put_many(self, keys: List[str], contents: List[bytes]) -> List[Optional[BaseException]]:
        """Write small files given in memory: concurrently on object stores
        (each object is written whole or not at all), through ``store()`` on
        filesystems with folders (temporary name and rename).

        Parameters
        ----------
        keys: list of string
            Destination keys.
        contents: list of bytes
            Content of each file.

        Returns
        -------
        list of Exception or None
            Each file's error, None where it was written (see :func:`run_each`).
        """
        if self.has_directories:
            return run_each(self, [
                ('store', (IOBuffer(io.BytesIO(data)), key)) for key, data in zip(keys, contents)
            ])
        paths = [self._resolve(key)[1] for key in keys]
        return run_each(self.fs, [('pipe_file', item) for item in zip(paths, contents)])

    @property
    def url(self) -> str:
        """URL of the volume root (protocol and path, no credentials)."""
        url: str = self.fs.unstrip_protocol(self.root)
        return url

    # -- Contract -------------------------------------------------------------

    def close(self) -> None:
        """Release nothing: fsspec filesystems hold no per-volume resources."""

    def delete(self, key: str) -> None:
        """Delete the file or the folder (with everything below it) at the key.

        Siblings that merely share a prefix with the key are kept. A missing
        key is not an error.

        Parameters
        ----------
        key: str
            Path to a file or folder in the storage volume.
        """
        key, path = self._resolve(key)
        self._remove(path, key)

    def _remove(self, path: str, key: str) -> None:
        try:
            with translate_errors(key, self.describe()):
                self.fs.rm(path, recursive=True)
        except UnknownFileError:
            pass

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'fsspec volume at {self.url}'

    def erase(self) -> None:
        """Erase the storage volume base directory and all its contents.

        A root at the top of the filesystem's namespace (a bucket) is emptied
        but not removed: volumes neither create nor delete buckets.
        """
        self.fs.invalidate_cache(self.root)
        if not self._keeps_root():
            self._remove(self.root, '')
            return
        with translate_errors('', self.describe(), missing=VolumeNotFoundError):
            children = self.fs.ls(self.root, detail=False)
        for child in children:
            self._remove(child, path_to_key(self.root, child) or '')

    def _keeps_root(self) -> bool:
        """Whether ``erase()`` empties the root instead of removing it: true for
        the top of the filesystem (hook for bucket volumes).
        """
        return not self.root.strip('/')

    @classmethod
    def from_dict(cls, doc: Dict[str, Any]) -> StorageVolume:
        """Get a volume instance from its dictionary serialization.

        Parameters
        ----------
        doc: dict
            Dictionary serialization as returned by the ``to_dict()`` method.

        Returns
        -------
        flowserv_fsspec.volume.FsspecVolume
        """
        args = read_args(doc, FSSPEC_STORE, required=('url',))
        return cls.from_url(args['url'], identifier=doc.get('id'))

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> FsspecVolume:
        """Get a volume for the root named by an fsspec URL.

        Parameters
        ----------
        url: string
            URL of the volume root, e.g. ``memory://runs``.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options for the fsspec filesystem (never serialized).

        Returns
        -------
        flowserv_fsspec.volume.FsspecVolume

        Raises
        ------
        flowserv_fsspec.errors.InvalidConfigurationError
        """
        protocol = fsspec.core.split_protocol(url)[0] or 'file'
        clean, username, password = split_credentials(url)
        try:
            fs_class = fsspec.get_filesystem_class(protocol)
            if username or password:
                # ftp and the like read them from the URL (http does not).
                storage_options = {**fs_class._get_kwargs_from_urls(url), **storage_options}
            if protocol in ('http', 'https'):
                storage_options = http_options(storage_options, username, password)
            fs = fs_class(**storage_options)
        except Exception as ex:
            # The message names the URL without its password.
            raise InvalidConfigurationError(
                'volume URL', clean, f'{type(ex).__name__}: {ex}'.replace(url, clean)
            ) from None
        return cls(fs, root=clean, identifier=identifier)

    def find_leftovers(self, older_than: float) -> List[Leftover]:
        """Find the temporary files of unfinished writes below the root (see
        :mod:`flowserv_fsspec.cleanup`).

        Parameters
        ----------
        older_than: float
            Age in seconds: younger ones may belong to writes under way.

        Returns
        -------
        list of flowserv_fsspec.cleanup.Leftover
        """
        now, found = time.time(), list()
        for path in self._find(self.root, ''):
            path = self.fs._strip_protocol(path)
            if not is_temp_path(path):
                continue
            key = path_to_key(self.root, path) or path
            with translate_errors(key, self.describe()):
                age = now - self.fs.modified(path).timestamp()
            if age >= older_than:
                found.append(Leftover('part file', key, age, functools.partial(
                    self._remove, path, key
                )))
        return found

    def get_store_for_folder(self, key: str, identifier: Optional[str] = None) -> StorageVolume:
        """Get storage volume for a sub-folder of the given volume.

        Parameters
        ----------
        key: string
            Relative path to sub-folder; the returned volume's root is this
            volume's root joined with the key.
        identifier: string, default=None
            Unique volume identifier.

        Returns
        -------
        flowserv_fsspec.volume.FsspecVolume
        """
        key, path = self._resolve(key)
        return self._folder_volume(key, path, identifier)

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> FsspecVolume:
        """Build the volume for a validated sub-folder (hook for backends)."""
        return FsspecVolume(self.fs, root=path, identifier=identifier)

    def key_type(self, key: Optional[str] = None) -> Optional[str]:
        """Tell what a key names: ``'file'``, ``'folder'`` or None (nothing),
        with one metadata request. An empty folder is a folder; on object
        stores a prefix is a folder when objects lie below it.

        Parameters
        ----------
        key: string, default=None
            Key of a file or folder, None or '' for the volume root.

        Returns
        -------
        string or None
        """
        key, path = self._resolve(key, allow_empty=True)
        try:
            with translate_errors(key, self.describe()):
                info = self.fs.info(path)
        except UnknownFileError:
            return None
        return {'file': 'file', 'directory': 'folder'}.get(info.get('type', ''))

    def overlaps(self, other: StorageVolume) -> bool:
        """Whether the two volumes share files: one's root is at or below the
        other's on the same server (compared by URL, whatever the options).

        Parameters
        ----------
        other: flowserv_fsspec.base.StorageVolume
            Another volume.

        Returns
        -------
        bool
        """
        if not isinstance(other, FsspecVolume) or type(other.fs) is not type(self.fs):
            return False
        mine, theirs = self._canonical_url(), other._canonical_url()
        return is_within(mine, theirs) or is_within(theirs, mine)

    def _canonical_url(self) -> str:
        """Get the URL of the root as compared by ``overlaps``: it names the
        server too (hook for filesystems where two paths can name one folder).
        """
        return self.url

    def load(self, key: str) -> IOHandle:
        """Load a file object at the source path of this volume store.

        Checks that the file exists with one metadata request, whose size the
        handle keeps.

        Parameters
        ----------
        key: str
            Path to a file object in the storage volume.

        Returns
        -------
        flowserv_fsspec.volume.FsspecFile

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        key, path = self._resolve(key)
        with translate_errors(key, self.describe()):
            info = self.fs.info(path)
        if info.get('type') != 'file':
            raise UnknownFileError(key, self.describe())
        return self._handle(path, key, info.get('size'))

    def mkdir(self, path: str) -> None:
        """Create the directory with the given (relative) path and all of its
        parent directories.

        Does not raise an error if the directory exists. Object stores have no
        directories: there it does nothing (and never creates a bucket).

        Parameters
        ----------
        path: string
            Relative path to a directory in the storage volume.
        """
        key, dirpath = self._resolve(path)
        if self.has_directories:
            with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
                self.fs.makedirs(dirpath, exist_ok=True)

    def query(self, filter: str) -> List[str]:
        """Get the keys of the files whose key starts with the given prefix.

        Lists only the folder that holds the prefix's last segment.

        Parameters
        ----------
        filter: str
            Prefix of file keys, relative to the volume root.

        Returns
        -------
        list of string
        """
        prefix = normalize_key(filter, allow_empty=True)
        if prefix and filter.endswith('/'):
            prefix += '/'
        folder = prefix.rpartition('/')[0]
        return [key for key, _ in self.walk(folder) if key.startswith(prefix)]

    def store(self, file: IOHandle, dst: str) -> None:
        """Store a given file object at the destination path of this volume
        store, streaming it in chunks.

        Parameters
        ----------
        file: flowserv_fsspec.base.IOHandle
            File-like object that is being stored.
        dst: str
            Destination path for the stored object.
        """
        key, path = self._resolve(dst)
        self._check_writable(key, path)
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            if self.has_directories:
                self._clear_folder_at(key, path)
                self.fs.makedirs(self.fs._parent(path), exist_ok=True)
                self._write_and_rename(path, lambda temp: self._write_file(file, temp))
            else:
                self._write_object(file, path)

    def _check_writable(self, key: str, path: str) -> None:
        """Refuse, before any write, a key that the backend would store under
        another name (hook for backends with such names).
        """

    def _clear_folder_at(self, key: str, path: str) -> None:
        """Remove an empty folder where a file is to be stored (a rename would
        move the file into it); a folder that holds files is an error.
        """
        if self.fs.isdir(path):
            if self.fs.find(path):
                raise InvalidKeyError(key, 'names a folder that holds files, not a file')
            self.fs.rm(path, recursive=True)

    def _write_and_rename(self, path: str, write: Callable[[str], Any]) -> None:
        """Write with ``write(temp)`` to a temporary name beside the target,
        then rename it into place: a failed write leaves the previous file (or
        none), never a part.
        """
        temp = temp_path(path)
        try:
            write(temp)
            self._rename(temp, path)
        except BaseException:
            if self.fs.exists(temp):
                self.fs.rm_file(temp)
            raise

    def _write_file(self, file: IOHandle, path: str) -> None:
        """Stream a file's bytes into a new file at a path."""
        with read_stream(file) as src, self.fs.open(path, 'wb') as out:
            shutil.copyfileobj(src, out, COPY_CHUNK)

    def _write_object(self, file: IOHandle, path: str) -> None:
        """Upload an object in parts; a failed upload is discarded (a started
        multipart upload is aborted), so no partial object appears.
        """
        out = self.fs.open(path, 'wb', block_size=WRITE_BLOCK_SIZE)
        try:
            with read_stream(file) as src:
                shutil.copyfileobj(src, out, COPY_CHUNK)
        except BaseException:
            self._abandon(out)
            raise
        out.close()

    def _rename(self, temp: str, path: str) -> None:
        """Move a finished temporary file over the target (hook for backends
        whose ``mv`` does not replace an existing file).
        """
        self.fs.mv(temp, path)

    def _abandon(self, out: Any) -> None:
        """Throw away a failed upload (s3fs aborts its multipart upload) and
        mark it closed, so that nothing is flushed now or when it is collected
        (hook for backends that discard differently).
        """
        out.discard()
        out.closed = True

    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        The document names the volume by URL; storage options (which may hold
        credentials) are not serialized.

        Returns
        -------
        dict
        """
        return FsspecStore(url=self.url, identifier=self.identifier)

    def walk(self, src: Optional[str]) -> List[Tuple[str, IOHandle]]:
        """Get list of all files at the given source path, sorted by key.

        A file gives a single entry whose key equals ``src``; a folder gives all
        files below it; None or '' gives every file of the volume. One listing
        call; each handle carries the size from the listing. Temporary files
        of unfinished writes (``.name.<hex>.part``, left when a connection
        dropped before they were renamed or removed) are not listed.

        Parameters
        ----------
        src: str
            Source path specifying a file or folder.

        Returns
        -------
        list of tuples (str, flowserv_fsspec.base.IOHandle)
        """
        key, path = self._resolve(src, allow_empty=True)
        result = list()
        for name, info in self._find(path, key).items():
            name = self.fs._strip_protocol(name)
            if self.has_directories and is_temp_path(name):
                continue
            filekey = key if name == path and key else path_to_key(self.root, name)
            if filekey is None or (filekey != key and key and not filekey.startswith(key + '/')):
                continue
            result.append((filekey, self._handle(name, filekey, info.get('size'))))
        return sorted(result, key=lambda item: item[0])

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.url} id={self.identifier}>'
