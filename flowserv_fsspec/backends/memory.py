"""Volumes on fsspec's in-process memory filesystem (``memory://``).

The memory filesystem answers ``info``, ``isdir``, ``exists`` and ``mv`` by
scanning every file it holds, so the generic write (folder check, temporary
file, rename) cost time in proportion to all files in memory: 10,000 stores
took 72 s. Here a write is one assignment of complete bytes (``pipe_file``:
no reader sees a part, and a failed source writes nothing), and the folder
check looks at the folders that were made (``mkdir``, or the parents of
stored files). A folder implied only by files that another client wrote
with the filesystem itself, bypassing volumes, is not seen by that check.
Server-side copies are one assignment too (``cp_file``), and a delete
drops the entries at and below its path (fsspec's memory ``rm`` expands
globs and scans every file for each folder).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, List

from flowserv_fsspec.handles import IOHandle, read_stream
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import FolderWrites


class MemoryWrites(FolderWrites):
    """Folder writes of one assignment each."""

    def clear_folder_at(self, key: str, path: str) -> None:
        """Look for a folder among those that were made, not by a scan."""
        if path in self.fs.pseudo_dirs:
            super().clear_folder_at(key, path)

    def makedirs(self, path: str) -> None:
        """Create a folder, refusing one below a file (fsspec's memory
        ``makedirs`` would let a file and a folder share a name).
        """
        parent = path
        while parent.strip('/'):
            if parent in self.fs.store:
                raise NotADirectoryError(f'{parent} is a file')
            parent = self.fs._parent(parent)
        super().makedirs(path)

    def remove(self, path: str) -> None:
        """Drop the files and the made folders at and below a path (found in
        copies taken at once: other threads may be storing).
        """
        files = below(list(self.fs.store.copy()), path)
        folders = below(self.fs.pseudo_dirs.copy(), path)
        if not files and not folders:
            raise FileNotFoundError(path)
        for name in files:
            self.fs.store.pop(name, None)
        for name in folders:
            with contextlib.suppress(ValueError):
                self.fs.pseudo_dirs.remove(name)

    def write_and_rename(self, path: str, write: Callable[[str], Any]) -> None:
        """Write in place: every write below is one assignment, so no
        temporary name is needed.
        """
        write(path)

    def write_file(self, file: IOHandle, path: str) -> None:
        """Assign the file's complete bytes."""
        with read_stream(file) as src:
            data = src.read()
        self.fs.pipe_file(path, data)


def below(names: List[str], path: str) -> List[str]:
    """Give the names that are the path or lie below it."""
    return [name for name in names if name == path or name.startswith(path + '/')]


class MemoryVolume(FsspecVolume):
    """Storage volume below a root of the memory filesystem; each store costs
    the same however many files the filesystem holds.
    """

    writes_class = MemoryWrites
    shared = False  # the memory filesystem lives in its process

    def _find(self, path: str, key: str) -> Dict[str, Dict[str, Any]]:
        """List the files at or below a path from a copy of the store's items
        taken at once (fsspec's memory ``find`` iterates the store itself, which
        another thread's store changes under it).
        """
        path = self.fs._strip_protocol(path)
        # A copy is one step that runs no Python code (iterating the store, as
        # list() does, can run a collector's finalizers, and another thread).
        files = self.fs.store.copy()
        return {
            name: {'size': files[name].size, 'mtime': files[name].modified}
            for name in below(list(files), path)
        }
