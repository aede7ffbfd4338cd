"""A volume as an fsspec filesystem rooted at the volume's root, for the
libraries that take one: pandas, pyarrow, zarr, xarray, dask.

``volume.as_filesystem()`` gives a :class:`RootedFileSystem`: fsspec's
``DirFileSystem`` over the volume's own filesystem, whose paths are keys of
the volume. Every path passes the volume's key rules (its ``path()``), so
none leads out of the root (no ``..``, no link out of a local volume).
Its JSON form (``to_json``) is the volume's document, never the credentials
of the filesystem below.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, List, Optional, Protocol, Union

from fsspec import AbstractFileSystem
from fsspec.implementations.dirfs import DirFileSystem


class RootedVolume(Protocol):
    """What the filesystem needs of the volume (an FsspecVolume)."""

    fs: AbstractFileSystem
    root: str

    def path(self, key: Optional[str]) -> str:
        """Map a key to its path in ``fs`` (validating it)."""

    def describe(self) -> str:
        """Describe the volume."""

    def delete(self, key: str) -> None:
        """Delete a file or folder by key."""

    def erase(self) -> None:
        """Delete every file of the volume."""

    def copy(self, src: str, store: Any, dst: Optional[str] = None) -> List[str]:
        """Copy a file or folder by key."""

    def to_dict(self) -> Dict[str, Any]:
        """Serialize the volume (no credentials)."""


class RootedFileSystem(DirFileSystem):  # type: ignore[misc]
    """fsspec filesystem of the files below a volume's root; paths are keys
    (a leading '/' names the root).
    """

    cachable = False  # fsspec would share instances among volumes with equal reprs

    def __init__(self, volume: Union[RootedVolume, Dict[str, Any]], **storage_options: Any):
        """Initialize the volume whose files the filesystem shows.

        Parameters
        ----------
        volume: flowserv_fsspec.volume.FsspecVolume or dict
            The volume, or the form that :meth:`to_dict` gives (the volume's
            class and document), which builds it again.
        storage_options: dict
            Options of fsspec's ``DirFileSystem`` (e.g. ``asynchronous``).
        """
        self.volume: RootedVolume = rebuild(volume) if isinstance(volume, dict) else volume
        # DirFileSystem takes an empty path for a missing one; '' is set after.
        super().__init__(path=self.volume.root or '.', fs=self.volume.fs, **storage_options)
        self.path = self.volume.root

    def _join(self, path: Any) -> Any:
        """Map a key (or a list or dict of keys) to the path below the root,
        validated by the volume.

        Raises
        ------
        flowserv_fsspec.errors.InvalidKeyError
        """
        if isinstance(path, str):
            return self.volume.path(self._strip_protocol(path).lstrip('/'))
        return super()._join(path)

    # Patterns are expanded here, on keys, never by the filesystem below: it
    # would read the root's own characters ('proj[1]') as a pattern and reach
    # outside the root. Each match is then read, written or deleted by its
    # key, through the checks of ``_join`` (or the volume's own delete).

    def glob(self, path: str, maxdepth: Optional[int] = None, **kwargs: Any) -> Any:
        """Find the keys that match a pattern (fsspec's rules), the root
        taken literally.
        """
        return AbstractFileSystem.glob(self, path.lstrip('/'), maxdepth, **kwargs)

    def expand_path(
        self, path: Any, recursive: bool = False, maxdepth: Optional[int] = None, **kwargs: Any
    ) -> List[str]:
        """Expand patterns and folders into keys (see :meth:`glob`)."""
        keys: List[str] = AbstractFileSystem.expand_path(self, path, recursive, maxdepth, **kwargs)
        return keys

    def cat(
        self, path: Any, recursive: bool = False, on_error: str = 'raise', **kwargs: Any
    ) -> Any:
        """Read files by key or pattern, each through ``cat_file``."""
        return AbstractFileSystem.cat(self, path, recursive, on_error, **kwargs)

    def get(self, rpath: Any, lpath: Any, *args: Any, **kwargs: Any) -> None:
        """Download files by key or pattern, each through ``get_file``."""
        AbstractFileSystem.get(self, rpath, lpath, *args, **kwargs)

    def put(self, lpath: Any, rpath: Any, *args: Any, **kwargs: Any) -> None:
        """Upload local files, each through ``put_file``."""
        AbstractFileSystem.put(self, lpath, rpath, *args, **kwargs)

    def copy(self, path1: Any, path2: Any, *args: Any, **kwargs: Any) -> None:
        """Copy files by key or pattern, each through ``cp_file``."""
        AbstractFileSystem.copy(self, path1, path2, *args, **kwargs)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy one file by key with the volume's own copy (server-side where
        the storage can; SFTP has no copy request, which sshfs's ``cp_file``
        replaces with a shell command).
        """
        self.volume.copy(self._key(path1), self.volume, dst=self._key(path2))

    def _key(self, path: str) -> str:
        """Get the key that a path of this filesystem names ('' for the root)."""
        key: str = self._strip_protocol(path).strip('/')
        return key

    def mv(self, path1: Any, path2: Any, *args: Any, **kwargs: Any) -> None:
        """Move files by key or pattern: ``copy``, then ``rm``."""
        AbstractFileSystem.mv(self, path1, path2, *args, **kwargs)

    def rm(self, path: Any, recursive: bool = False, maxdepth: Optional[int] = None) -> None:
        """Delete the files (with ``recursive``, also folders) that keys or
        patterns name, each by the volume's literal delete; '' or '/' with
        ``recursive`` erases the volume.
        """
        for key in map(self._key, self.expand_path(path, maxdepth=maxdepth)):
            if not recursive and self.isdir(key):
                raise IsADirectoryError(key)
            if key:
                self.volume.delete(key)
            else:
                self.volume.erase()

    def to_dict(self, *, include_password: bool = True) -> Dict[str, Any]:
        """Serialize as the volume's class and document: no credentials, with
        or without ``include_password``; ``from_dict``/``from_json`` build it
        again with the credentials of the environment.
        """
        return {
            'cls': f'{type(self).__module__}.{type(self).__qualname__}',
            'protocol': self.protocol,
            'volume': {
                'volume_class': f'{type(self.volume).__module__}.{type(self.volume).__qualname__}',
                'document': self.volume.to_dict(),
            },
        }

    def __repr__(self) -> str:
        return f'<{type(self).__name__} of {self.volume.describe()}>'


def rebuild(form: Dict[str, Any]) -> RootedVolume:
    """Build a volume again from its class's name and its document."""
    module, _, name = form['volume_class'].rpartition('.')
    volume_class = getattr(importlib.import_module(module), name)
    volume: RootedVolume = volume_class.from_dict(form['document'])
    return volume
