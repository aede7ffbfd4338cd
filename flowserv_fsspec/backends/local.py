"""Volumes on the local file system (flowserv document type ``fs``)."""

from __future__ import annotations

import os
import shutil
import stat
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import fsspec
from fsspec.implementations.local import LocalFileSystem

from flowserv_fsspec.backends import check_options
from flowserv_fsspec.documents import make_doc, read_args
from flowserv_fsspec.errors import InvalidConfigurationError, InvalidKeyError, VolumeNotFoundError
from flowserv_fsspec.handles import modified_of
from flowserv_fsspec.listing import Entry
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import FolderWrites


FS_STORE = 'fs'
"""Type identifier for storage volume serializations."""

LOCAL_PROTOCOLS = (None, 'file', 'local')
"""URL protocols of local paths (None: a plain path)."""


def FStore(
    basedir: Union[str, os.PathLike[str]], identifier: Optional[str] = None
) -> Dict[str, Any]:
    """Get configuration object for a file system storage volume.

    Parameters
    ----------
    basedir: string or os.PathLike
        Base directory of the volume on the local file system.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(FS_STORE, identifier, basedir=os.fspath(basedir))


class LocalWrites(FolderWrites):
    """Folder writes that keep their sources' modification times, and whose
    deletes never follow a symbolic link.
    """

    keeps_times = True

    def keep_time(self, path: str, file: Any) -> None:
        """Set a written file's modification time to its source's (``cp -p``,
        rsync ``-t``), when the source has one.
        """
        mtime = modified_of(file)
        if mtime is not None:
            os.utime(path, ns=(time.time_ns(), round(mtime.seconds * 1e9)))

    def remove(self, path: str) -> None:
        """Delete a file or link, or a folder with ``shutil.rmtree`` (which
        removes links below it without following them).
        """
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def list_folder(path: str) -> List[os.DirEntry]:  # type: ignore[type-arg]
    """List a folder's entries; a folder deleted meanwhile has none."""
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []


def listing_order(entry: os.DirEntry[str]) -> str:
    """Sort key of a folder's entry among the keys below the folder: a folder
    sorts as its name and a '/' (``a-1`` before ``a/b``: '-' sorts before '/').
    """
    return entry.name + '/' if entry.is_dir(follow_symlinks=False) else entry.name


class LocalVolume(FsspecVolume):
    """Storage volume for the files below a base directory on local disk.

    The base directory is not created up front: writes create the folders
    they need, and listing a missing base directory gives no files.

    Symbolic links never lead out of the volume: a key whose path resolves
    outside the base directory is rejected (``InvalidKeyError``) before it is
    read, written or deleted; ``walk`` does not follow links to folders and
    lists links to files only when their target is inside the volume.
    """

    writes_class = LocalWrites

    def __init__(
        self, basedir: Union[str, os.PathLike[str]], identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None
    ):
        """Initialize the base directory.

        Parameters
        ----------
        basedir: string or os.PathLike
            Base directory for all files of the volume.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options of ``fsspec.implementations.local.LocalFileSystem`` (e.g.
            ``auto_mkdir``, ``use_listings_cache``); never serialized.
        """
        if not basedir or not isinstance(basedir, (str, os.PathLike)) or '\x00' in str(basedir):
            raise InvalidConfigurationError('base directory', basedir, 'expected a path')
        # Absolute, so that a document means the same folder from any working folder.
        self.basedir = os.path.abspath(os.fspath(basedir))
        self.storage_options = dict(storage_options or {})
        check_options('local', self.storage_options, LocalFileSystem.__init__)
        fs = LocalFileSystem(**self.storage_options)
        super().__init__(fs, root=self.basedir, identifier=identifier)

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'local file system at {self.root}'

    @classmethod
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> LocalVolume:
        """Get file system storage volume instance from dictionary serialization.

        Parameters
        ----------
        doc: dict
            Dictionary serialization as returned by the ``to_dict()`` method.
        storage_options: dict
            Options of the volume's filesystem (never serialized; see the
            volume's class).

        Returns
        -------
        flowserv_fsspec.backends.local.LocalVolume
        """
        args = read_args(doc, FS_STORE, required=('basedir',), types={
            'basedir': (str, os.PathLike)  # flowserv's DefaultVolume passes a Path
        })
        return cls(
            basedir=args['basedir'], identifier=doc.get('id'), storage_options=storage_options
        )

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> LocalVolume:
        """Get a volume for a ``file://`` URL or a plain local path.

        Parameters
        ----------
        url: string
            ``file:///abs/path``, ``local://...`` or a path.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options of ``LocalFileSystem`` (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.local.LocalVolume
        """
        return cls(
            basedir=fsspec.core.split_protocol(url)[1], identifier=identifier,
            storage_options=storage_options
        )

    def _resolve(self, key: Optional[str], allow_empty: bool = False) -> Tuple[str, str]:
        key, path = super()._resolve(key, allow_empty=allow_empty)
        if not self._inside(path):
            raise InvalidKeyError(key, f'leads out of {self.root} through a symbolic link')
        return key, path

    def _inside(self, path: str) -> bool:
        """Whether a path, with its symbolic links resolved, is below the root."""
        root, real = os.path.realpath(self.root), os.path.realpath(path)
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)

    def _listing(self, path: str, key: str) -> Iterator[Entry]:
        """Stream the files below a folder in the order of their paths, a
        folder at a time, with one ``stat`` each (links: their target's, when
        it is inside); links to folders are not followed, and a file or folder
        deleted while it is listed is left out.
        """
        if not os.path.isdir(path):
            yield from super()._listing(path, key)
            return
        folders = [iter(self._entries(path, key))]
        while folders:
            entry = next(folders[-1], None)
            if entry is None:
                folders.pop()
            elif entry.is_dir(follow_symlinks=False):
                folders.append(iter(self._entries(entry.path, key)))
            else:
                link = entry.is_symlink()
                if link and not self._inside(entry.path):
                    continue
                try:
                    info = entry.stat(follow_symlinks=link)
                except FileNotFoundError:  # deleted since it was listed
                    continue
                if stat.S_ISREG(info.st_mode):
                    yield entry.path, info.st_size, info.st_mtime

    def _entries(self, folder: str, key: str) -> List[os.DirEntry]:  # type: ignore[type-arg]
        """List a folder's entries in the order of the paths below them
        (:func:`listing_order`).
        """
        with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
            entries = list_folder(folder)
        return sorted(entries, key=listing_order)

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> LocalVolume:
        basedir = os.path.join(self.basedir, *key.split('/'))
        return LocalVolume(basedir, identifier, storage_options=self.storage_options)

    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        Returns
        -------
        dict
        """
        return FStore(basedir=self.basedir, identifier=self.identifier)
