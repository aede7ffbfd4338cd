"""How a volume writes files so that a failed write loses nothing.

A volume writes through one ``Writes`` object, chosen by its class:

- :class:`FolderWrites`, for filesystems with folders (local disk, SFTP,
  WebDAV, memory): write to a temporary name beside the target, then rename
  it into place; a key that is a file cannot also be a folder.
- :class:`ObjectWrites`, for object stores: an object appears whole or not
  at all, so it is uploaded directly (in parts when large; a failed upload
  is discarded); there are no folders to create and a key can name an
  object and a prefix at once.

Backends with their own rules subclass one of them (WebDAV's rename and
names, GCS's discard, S3's server-side copy, the memory
filesystem's one-assignment writes). Paths are already validated; errors are
typed by the caller.

No method here calls an fsspec method that expands glob patterns (``rm``,
``mv``, ``copy``, ``cat``, ``get``, ``put`` do on most filesystems: fsspec's
memory ``rm('/d/data[1].csv')`` deletes ``/d/data1.csv``): a path names one
file, whatever characters its name holds. Deletes go through :meth:`Writes.remove`
and :meth:`Writes.remove_files`, renames through :meth:`FolderWrites.rename`.
"""

import functools
import io
from glob import has_magic
from typing import Any, Callable, List, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.concurrency import run_each
from flowserv_fsspec.errors import InvalidKeyError
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.handles import IOBuffer, IOHandle, Modified, copy_into
from flowserv_fsspec.keys import is_temp_path, temp_path
from flowserv_fsspec.parts import Parts


WRITE_BLOCK_SIZE = 8 * 1024 * 1024
"""Part size of streamed uploads to object stores: a file larger than this is
uploaded in parts (S3 multipart), so ``store()`` holds about one part in
memory (s3fs would otherwise buffer 50 MiB)."""

Outcomes = List[Optional[BaseException]]
"""Each item's error, None where it succeeded (see
:func:`flowserv_fsspec.concurrency.run_each`)."""


def raise_first(outcomes: Outcomes) -> None:
    """Raise the first error of :func:`flowserv_fsspec.concurrency.run_each`'s outcomes."""
    for error in outcomes:
        if error is not None:
            raise error


def gone_is_done(outcomes: Outcomes) -> Outcomes:
    """Count a delete that found nothing as done: the file is gone either way."""
    return [None if isinstance(error, FileNotFoundError) else error for error in outcomes]


class ReadFile(IOBuffer):
    """The bytes of a file read whole, with the file's modification time."""

    def __init__(self, data: bytes, mtime: Optional[Modified]):
        """Initialize with the bytes and the time (None where unknown)."""
        super().__init__(io.BytesIO(data))
        self.mtime = mtime

    def modified(self) -> Optional[Modified]:
        """Get the modification time of the file read."""
        return self.mtime


class Writes:
    """The write policy of a volume's filesystem (see the module)."""

    folders: bool = False
    """Whether the storage has folders: a key names a file or a folder, never
    both (a copy that would need both is refused before it writes)."""

    keeps_times: bool = False
    """Whether a written file keeps its source's modification time (local
    disk sets it): a sync compares such times for equality, others by which
    is newer (see :mod:`flowserv_fsspec.sync`)."""

    def __init__(self, fs: AbstractFileSystem, parts: Optional[Parts] = None):
        """Initialize with the filesystem written to.

        Parameters
        ----------
        fs: fsspec.AbstractFileSystem
            The volume's filesystem.
        parts: flowserv_fsspec.parts.Parts, default=None
            How big files are uploaded in concurrent parts, where the backend
            can (S3).
        """
        self.fs = fs
        self.parts = parts or Parts()

    def check(self, key: str, path: str) -> None:
        """Refuse, before any write, a key that the backend would store under
        another name (backends with such names override it).

        Raises
        ------
        flowserv_fsspec.errors.InvalidKeyError
        """

    def is_temporary(self, path: str) -> bool:
        """Whether a listed path is the temporary file of a write."""
        return False

    def makedirs(self, path: str) -> None:
        """Create a folder and its parents (where the storage has folders)."""

    def put(self, file: IOHandle, key: str, path: str) -> None:
        """Write one file, streamed; a failed write leaves no part behind."""
        raise NotImplementedError()  # pragma: no cover

    def put_many(
        self, keys: List[str], paths: List[str], contents: List[bytes],
        times: List[Optional[Modified]]
    ) -> Outcomes:
        """Write small files given in memory with their sources' modification
        times, one outcome each.
        """
        return run_each(self, [
            ('put', (ReadFile(data, mtime), key, path))
            for key, path, data, mtime in zip(keys, paths, contents, times)
        ])

    def keep_time(self, path: str, file: Any) -> None:
        """Give a written file its source's modification time, where the
        storage keeps one (``keeps_times``); nothing here.
        """

    def copy_many(self, files: List[FsspecFile], keys: List[str], paths: List[str]) -> Outcomes:
        """Copy files of the filesystem to paths of it, server-side, one
        outcome each.
        """
        raise NotImplementedError()  # pragma: no cover

    def remove(self, path: str) -> None:
        """Delete the file or the folder at a path with everything below it,
        taking the path literally (no glob expansion).

        Raises
        ------
        FileNotFoundError
            When nothing is at the path.
        """
        raise NotImplementedError()  # pragma: no cover

    def remove_files(self, paths: List[str]) -> Outcomes:
        """Delete files by path, each taken literally: concurrently on async
        filesystems (backends with a bulk delete override it). A file that is
        not there counts as deleted. Gives each path's outcome.
        """
        return gone_is_done(run_each(self.fs, [('rm_file', (path,)) for path in paths]))


class FolderWrites(Writes):
    """Temporary name, then rename: the target is replaced whole or not at all."""

    folders = True

    def is_temporary(self, path: str) -> bool:
        """Whether a listed path is the temporary file of a write."""
        return is_temp_path(path)

    def makedirs(self, path: str) -> None:
        """Create a folder and its parents; an existing one is fine."""
        self.fs.makedirs(path, exist_ok=True)

    def put(self, file: IOHandle, key: str, path: str) -> None:
        """Stream a file to a temporary name beside the target and rename it
        into place, replacing an empty folder of that name.
        """
        self.check(key, path)
        self.clear_folder_at(key, path)
        self.makedirs(self.fs._parent(path))
        self.write_and_rename(path, lambda temp: self.write_file(file, temp))

    def copy_many(self, files: List[FsspecFile], keys: List[str], paths: List[str]) -> Outcomes:
        """Copy each file to a temporary name, then rename it (like ``put``)."""
        for parent in sorted({self.fs._parent(path) for path in paths}):
            self.makedirs(parent)
        return run_each(self, [
            ('copy', (file, key, path)) for file, key, path in zip(files, keys, paths)
        ])

    def copy(self, file: FsspecFile, key: str, path: str) -> None:
        """Copy one file server-side to a temporary name, then rename it into place."""
        self.check(key, path)
        self.clear_folder_at(key, path)
        self.write_and_rename(path, functools.partial(self.copy_to, file))

    def copy_to(self, file: FsspecFile, path: str) -> None:
        """Copy a file of the filesystem to a path, server-side, with its time."""
        self.fs.cp_file(file.path, path)
        self.keep_time(path, file)

    def clear_folder_at(self, key: str, path: str) -> None:
        """Remove an empty folder where a file is to be stored (a rename would
        move the file into it); a folder that holds files is an error.
        """
        if self.fs.isdir(path):
            if self.fs.find(path):
                raise InvalidKeyError(key, 'names a folder that holds files, not a file')
            self.remove(path)

    def remove(self, path: str) -> None:
        """Delete a file, or a folder with one listing: its files
        (:meth:`Writes.remove_files`), then its folders, deepest first.
        """
        if self.fs.info(path).get('type') != 'directory':
            raise_first(self.remove_files([path]))
            return
        listed = self.fs.find(path, withdirs=True, detail=True)
        folders = {name for name, info in listed.items() if info.get('type') == 'directory'}
        raise_first(self.remove_files([name for name in listed if name not in folders]))
        for folder in sorted(folders | {path}, key=len, reverse=True):
            # Through run_each: async filesystems implement only ``_rmdir``
            # (their ``rmdir`` is fsspec's do-nothing default).
            raise_first(run_each(self.fs, [('rmdir', (folder,))]))

    def write_and_rename(self, path: str, write: Callable[[str], Any]) -> None:
        """Write with ``write(temp)`` to a temporary name beside the target,
        then rename it into place: a failed write leaves the previous file (or
        none), never a part.
        """
        temp = temp_path(path)
        try:
            write(temp)
            self.rename(temp, path)
        except BaseException:
            if self.fs.exists(temp):
                self.fs.rm_file(temp)
            raise

    def write_file(self, file: IOHandle, path: str) -> None:
        """Stream a file's bytes into a new file at a path, with the file's
        modification time where the storage keeps one.
        """
        with self.fs.open(path, 'wb') as out:
            copy_into(file, out)
        self.keep_time(path, file)

    def rename(self, temp: str, path: str) -> None:
        """Move a finished temporary file over the target with the
        filesystem's own ``mv`` (a rename on local disk, SFTP, FTP, ...).
        fsspec's default ``mv`` copies and removes with glob expansion, so a
        filesystem without its own gets a literal copy and delete instead
        (backends whose ``mv`` does not replace an existing file override it).
        """
        # Async filesystems bind their own ``mv`` to each instance.
        if getattr(self.fs.mv, '__func__', None) is AbstractFileSystem.mv:
            self.fs.cp_file(temp, path)
            self.fs.rm_file(temp)
        else:
            self.fs.mv(temp, path)


class ObjectWrites(Writes):
    """Objects written whole: uploads in parts, discarded when they fail."""

    def put(self, file: IOHandle, key: str, path: str) -> None:
        """Upload an object in parts; a failed upload is discarded (a started
        multipart upload is aborted), so no partial object appears.
        """
        self.check(key, path)
        out = self.fs.open(path, 'wb', block_size=WRITE_BLOCK_SIZE)
        try:
            copy_into(file, out)
        except BaseException:
            self.abandon(out)
            raise
        out.close()

    def put_many(
        self, keys: List[str], paths: List[str], contents: List[bytes],
        times: List[Optional[Modified]]
    ) -> Outcomes:
        """Write small objects concurrently, each whole or not at all."""
        return run_each(self.fs, [('pipe_file', item) for item in zip(paths, contents)])

    def copy_many(self, files: List[FsspecFile], keys: List[str], paths: List[str]) -> Outcomes:
        """Copy whole objects, concurrently on async filesystems."""
        return run_each(self.fs, [('cp_file', (f.path, p)) for f, p in zip(files, paths)])

    def remove_files(self, paths: List[str]) -> Outcomes:
        """Delete objects with the backend's bulk delete (S3: 1,000 keys per
        request; GCS and Azure: batches), except names that hold glob
        characters: ``rm`` would expand them (it decides with the same
        ``glob.has_magic``), so those go one by one. A failed bulk delete is
        the outcome of each of its objects.
        """
        outcomes: Outcomes = [None] * len(paths)
        literal = [i for i, path in enumerate(paths) if not has_magic(path)]
        if literal:
            try:
                self.fs.rm([paths[i] for i in literal])
            except FileNotFoundError:
                pass
            except Exception as ex:
                for i in literal:
                    outcomes[i] = ex
        patterned = [i for i, path in enumerate(paths) if has_magic(path)]
        for i, error in zip(patterned, super().remove_files([paths[i] for i in patterned])):
            outcomes[i] = error
        return outcomes

    def abandon(self, out: Any) -> None:
        """Throw away a failed upload (s3fs aborts its multipart upload) and
        mark it closed, so that nothing is flushed now or when it is collected
        (backends that discard differently override it).
        """
        out.discard()
        out.closed = True
