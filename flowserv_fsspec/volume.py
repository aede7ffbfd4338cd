"""The storage-volume contract, implemented once against any fsspec filesystem
with folders (local disk, memory, SFTP, WebDAV, ...).

:class:`FsspecVolume` maps keys to paths below a root (through
:mod:`flowserv_fsspec.keys`), lists with one ``find`` call, reads through
:class:`flowserv_fsspec.files.FsspecFile` handles, writes to a temporary
name and renames it into place, and receives copies through the strategies
of :mod:`flowserv_fsspec.transfer`. Object stores override what differs in
:class:`flowserv_fsspec.backends.bucket.BucketVolume`; backend modules only
build the filesystem and the serialized document.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Type

from fsspec import AbstractFileSystem

from flowserv_fsspec import transfer
from flowserv_fsspec.base import IOHandle, StorageVolume
from flowserv_fsspec.documents import FSSPEC_STORE, FsspecStore, read_args
from flowserv_fsspec.errors import UnknownFileError, UnsafeOperationError, VolumeNotFoundError
from flowserv_fsspec.files import FsspecFile, listed_time
from flowserv_fsspec.handles import Modified
from flowserv_fsspec.keys import key_to_path, normalize_key, path_to_key
from flowserv_fsspec.leftovers import Leftover
from flowserv_fsspec.listing import Entry, files_below, sorted_entries
from flowserv_fsspec.parts import Parts
from flowserv_fsspec.plan import Pair
from flowserv_fsspec.progress import Progress
from flowserv_fsspec.rooted import RootedFileSystem
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.urls import child_url, filesystem_for_url, holds_working_folder, place
from flowserv_fsspec.writes import FolderWrites, Writes


class FsspecVolume(StorageVolume):
    """Storage volume for the files below a root path of an fsspec filesystem.

    Every operation maps its key to a path below the root through
    :mod:`flowserv_fsspec.keys`, so no key reaches outside the volume. Cached
    listings of the filesystem are dropped before each access, so the volume
    sees what other clients wrote or deleted. Writes follow the policy of
    ``writes_class``. The arguments of the contract's methods are documented
    in :class:`flowserv_fsspec.base.StorageVolume`.
    """

    writes_class: Type[Writes] = FolderWrites
    """How files are written (see :mod:`flowserv_fsspec.writes`)."""
    parts: Optional[Parts] = None
    """How big files move in concurrent parts (object stores), or None."""

    def __init__(
        self, fs: AbstractFileSystem, root: str = '', identifier: Optional[str] = None,
        url: Optional[str] = None
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
        url: string, default=None
            URL of the root without credentials, where ``fs.unstrip_protocol``
            would not name it (a chained URL, a host and port).
        """
        super().__init__(identifier=identifier)
        self.fs = fs
        self.root: str = fs._strip_protocol(root)
        self._root_url = url
        self.writes = self.writes_class(fs, self.parts)
        self.folders = self.writes.folders

    def _resolve(self, key: Optional[str], allow_empty: bool = False) -> Tuple[str, str]:
        """Validate a key, map it to its path and drop cached listings of it.

        Returns the normalized key and the path.
        """
        key = normalize_key(key, allow_empty=allow_empty)
        path = key_to_path(self.root, key)
        self.fs.invalidate_cache(path)
        return key, path

    def _listing(self, path: str, key: str) -> Iterator[Entry]:
        """List the files at or below a path in the order of their paths (hook
        for backends whose listings stream; here ``_find``'s one call).
        """
        return sorted_entries(self._find(path, key), self.fs._strip_protocol)

    def _find(self, path: str, key: str) -> Dict[str, Dict[str, Any]]:
        """List the files at or below a path, with their details, in one call."""
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            found = self.fs.find(path, withdirs=False, detail=True)
        if not found:
            # fsspec's find lists nothing where the listing failed (its walk
            # skips what it cannot read): nothing there, or no answer?
            with contextlib.suppress(UnknownFileError), translate_errors(key, self.describe()):
                self.fs.info(path)
        # adlfs answers a list of names, without details, for a single file.
        return found if isinstance(found, dict) else {name: {} for name in found}

    def path(self, key: Optional[str]) -> str:
        """Get the path of a key ('' or None: the root) in the volume's
        filesystem; an invalid key raises ``InvalidKeyError``.
        """
        return self._resolve(key, allow_empty=True)[1]

    def as_filesystem(self) -> RootedFileSystem:
        """Get an fsspec filesystem rooted at the volume, whose paths are keys,
        for pandas, pyarrow, zarr or dask (see :mod:`flowserv_fsspec.rooted`).
        """
        return RootedFileSystem(self)

    def listed_file(
        self, path: str, key: str, size: Optional[int], seconds: Optional[float]
    ) -> FsspecFile:
        """Build the handle of a listed file, with the size and time listed
        (the listings' hook; a cluster's task rebuilds planned files with it).
        """
        mtime = None if seconds is None else Modified(seconds, self.writes.keeps_times)
        return FsspecFile(self.fs, path, key, self.described, size, self.parts, mtime)

    @functools.cached_property
    def described(self) -> str:
        """The volume's description (``describe()``), made once: every handle holds it."""
        return self.describe()

    def receive(self, pairs: Iterable[Pair], progress: Progress, source: StorageVolume) -> None:
        """Write planned files: server-side from a volume on the same
        filesystem, in concurrent batches from other fsspec filesystems,
        streamed otherwise (see :mod:`flowserv_fsspec.transfer`).
        """
        same_fs = isinstance(source, FsspecVolume) and source.fs == self.fs
        transfer.receive(self, pairs, progress, same_fs)

    @property
    def url(self) -> str:
        """URL of the volume root (protocol and path, no credentials)."""
        if self._root_url is not None:
            return self._root_url
        url: str = self.fs.unstrip_protocol(self.root)
        return url

    def close(self) -> None:
        """Release nothing: fsspec filesystems hold no per-volume resources."""

    def delete(self, key: str) -> None:
        """Delete the file or the folder (with everything below it) at the key;
        siblings that merely share a prefix stay; a missing key is fine.
        """
        key, path = self._resolve(key)
        self._remove(path, key)

    def delete_files(self, keys: List[str]) -> None:
        """Delete the files at the keys with the backend's bulk delete (S3:
        1,000 objects per request), each key exactly (a folder of the same
        name on an object store stays); missing files are not an error. A
        failure raises the typed error of the first key not deleted.
        """
        resolved = [self._resolve(key) for key in keys]
        outcomes = self.writes.remove_files([path for _, path in resolved])
        for (key, _), error in zip(resolved, outcomes):
            if error is not None:
                with translate_errors(key, self.describe()):
                    raise error

    def _remove(self, path: str, key: str) -> None:
        """Delete what is at a path (nothing there is fine), literally; never
        the folder the process works in or one that holds it (``rm -r .``),
        whatever URL names it.
        """
        self._refuse_working_folder(key)
        with contextlib.suppress(UnknownFileError), translate_errors(key, self.describe()):
            self.writes.remove(path)

    def _refuse_working_folder(self, key: str) -> None:
        """Refuse to delete a key ('': the volume) that holds the working folder."""
        if holds_working_folder(child_url(self.url, key) if key else self.url):
            raise UnsafeOperationError(
                f'delete of {key!r} in {self.describe()}', 'it holds the current working folder'
            )

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display."""
        return f'fsspec volume at {self.url}'

    def erase(self) -> None:
        """Erase the base directory and all its contents; a bucket (the top of
        the namespace) is emptied, never removed.
        """
        self.fs.invalidate_cache(self.root)
        if not self._keeps_root():
            self._remove(self.root, '')
            return
        self._refuse_working_folder('')
        with translate_errors('', self.describe(), missing=VolumeNotFoundError):
            children = self.fs.ls(self.root, detail=False)
        for child in children:
            self._remove(child, path_to_key(self.root, child) or '')

    def _refuse_missing_container(self, key: str) -> None:
        """After a miss, raise :class:`VolumeNotFoundError` if what holds the
        volume is missing (hook for buckets; a missing folder is empty).
        """

    def _keeps_root(self) -> bool:
        """Whether ``erase()`` empties the root instead of removing it: true for
        the top of the filesystem (hook for bucket volumes).
        """
        return not self.root.strip('/')

    @classmethod
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> StorageVolume:
        """Get a volume instance from its dictionary serialization."""
        args = read_args(doc, FSSPEC_STORE, required=('url',))
        return cls.from_url(args['url'], identifier=doc.get('id'), **storage_options)

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> FsspecVolume:
        """Get a volume for the root named by an fsspec URL (``memory://runs``),
        its filesystem built with the storage options (never serialized); see
        :func:`flowserv_fsspec.registry.from_url`.

        Raises
        ------
        flowserv_fsspec.errors.InvalidConfigurationError
        """
        fs, root, clean = filesystem_for_url(url, storage_options)
        return cls(fs, root=root, identifier=identifier, url=clean)

    def find_leftovers(self, older_than: float) -> List[Leftover]:
        """Find the temporary files of unfinished writes below the root that
        are at least ``older_than`` seconds old (younger ones may belong to
        writes under way; see :mod:`flowserv_fsspec.cleanup`).
        """
        now, found = time.time(), list()
        for path, _, seconds in self._listing(self.root, ''):
            if not self.writes.is_temporary(path):
                continue
            key = path_to_key(self.root, path) or path
            if seconds is None:
                with translate_errors(key, self.describe()):
                    seconds = self.fs.modified(path).timestamp()
            age = now - seconds
            if age >= older_than:
                discard = functools.partial(self._remove, path, key)
                found.append(Leftover('part file', key, age, discard))
        return found

    def get_store_for_folder(self, key: str, identifier: Optional[str] = None) -> StorageVolume:
        """Get storage volume for a sub-folder of the given volume."""
        key, path = self._resolve(key)
        return self._folder_volume(key, path, identifier)

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> FsspecVolume:
        """Build the volume for a validated sub-folder (hook for backends)."""
        url = child_url(self._root_url, key) if self._root_url is not None else None
        return type(self)(self.fs, root=path, identifier=identifier, url=url)

    def key_type(self, key: Optional[str] = None) -> Optional[str]:
        """Tell what a key names: ``'file'``, ``'folder'`` or None (nothing),
        with one metadata request. An empty folder is a folder; on object
        stores a prefix is a folder when objects lie below it.
        """
        key, path = self._resolve(key, allow_empty=True)
        try:
            with translate_errors(key, self.describe()):
                info = self.fs.info(path)
        except UnknownFileError:
            return None
        return {'file': 'file', 'directory': 'folder'}.get(info.get('type', ''))

    def holds(self, other: StorageVolume) -> bool:
        """Whether ``other``'s root is at or below this one's in the same storage,
        by :func:`flowserv_fsspec.urls.place` (dot segments, links, chains resolved).
        """
        return other is self or isinstance(other, FsspecVolume) and place(self.url).holds(
            place(other.url))

    def load(self, key: str) -> IOHandle:
        """Load the file at a key: one metadata request, whose size it keeps."""
        key, path = self._resolve(key)
        try:
            with translate_errors(key, self.describe()):
                info = self.fs.info(path)
        except UnknownFileError:
            self._refuse_missing_container(key)
            raise
        if info.get('type') != 'file':
            raise UnknownFileError(key, self.describe())
        return self.listed_file(path, key, info.get('size'), listed_time(info))

    def mkdir(self, path: str) -> None:
        """Create the directory at the key and its parents (an existing one is fine)."""
        key, dirpath = self._resolve(path)
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            self.writes.makedirs(dirpath)

    def store(self, file: IOHandle, dst: str) -> None:
        """Store a file object at the destination key, streamed in chunks."""
        key, path = self._resolve(dst)
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            self.writes.put(file, key, path)

    def to_dict(self) -> Dict[str, Any]:
        """Get the volume's document: its URL, never its storage options
        (which may hold credentials).
        """
        return FsspecStore(url=self.url, identifier=self.identifier)

    def walk(self, src: Optional[str]) -> List[Tuple[str, IOHandle]]:
        """Get list of all files at the given source path, sorted by key: a
        file gives itself, a folder (or '' and None: the root) every file
        below it, without the temporary files of unfinished writes; each
        handle carries the listed size. ``iter_walk`` gives them as a stream.
        """
        return list(self.iter_walk(src))

    def iter_walk(self, src: Optional[str]) -> Iterator[Tuple[str, IOHandle]]:
        """Stream what ``walk(src)`` lists, in the order of the keys, each
        handle built as its file passes; on local disk and S3 the listing
        streams too (see :mod:`flowserv_fsspec.listing`).
        """
        key, path = self._resolve(src, allow_empty=True)
        return files_below(self._listing(path, key), self.root, key, path,
                           self.writes.is_temporary, self.listed_file)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} {self.url} id={self.identifier}>'
