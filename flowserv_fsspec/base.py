"""The storage-volume contract: file handles and the abstract storage volume.

These classes keep the methods, arguments and meaning of
``flowserv.volume.base`` so that code written against flowserv's volumes
works with ours. Keys are always '/'-separated and relative to the volume
root, on every backend.
"""

from __future__ import annotations

import io
import uuid
from abc import ABCMeta, abstractmethod
from typing import IO, Any, Dict, Iterable, List, Optional, Tuple, Union


# -- File objects -------------------------------------------------------------

class IOHandle(metaclass=ABCMeta):
    """Handle for a file of a storage volume (or any other byte source).

    A handle does not hold the file's contents: ``open()`` gives the whole
    file as an ``io.BytesIO`` (flowserv's contract, which flowserv's own code
    relies on), ``stream()`` a streamed binary file that reads ahead a bounded
    block, and ``size()`` the number of bytes.
    """

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


# -- Storage volumes ----------------------------------------------------------

class StorageVolume(metaclass=ABCMeta):
    """A file-system-like store for the files of workflow runs.

    Each volume has a unique identifier that is used to keep track of which
    files and file versions are available in the volume. All keys are
    relative to the volume's root and '/'-separated.
    """

    def __init__(self, identifier: Optional[str] = None):
        """Initialize the unique volume identifier.

        If no identifier is provided a unique identifier is generated.

        Parameters
        ----------
        identifier: string, default=None
            Unique identifier.
        """
        self.identifier = identifier if identifier is not None else uuid.uuid4().hex

    @abstractmethod
    def close(self) -> None:
        """Close any open connection and release all resources when workflow
        execution is done.
        """
        raise NotImplementedError()  # pragma: no cover

    def copy(
        self, src: Union[str, List[str], None], store: StorageVolume, dst: Optional[str] = None,
        verbose: bool = False
    ) -> List[str]:
        """Copy the file or folder at the source path of this storage volume to
        the given storage volume.

        Returns the list of files that were copied.

        Parameters
        ----------
        src: string or list of string
            Relative source path(s) of the files and folders to copy.
        store: flowserv_fsspec.base.StorageVolume
            Storage volume for destination files.
        dst: string, default=None
            Destination folder (or file name, for a single file).
        verbose: bool, default=False
            Print information about source and target volume and the files that
            are being copied.

        Returns
        -------
        list of string
        """
        from flowserv_fsspec.transfer import copy_files
        return copy_files(src=src, source=self, dst=dst, target=store, verbose=verbose)

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete file or folder with the given key.

        Only the file named by the key, or the folder and everything below
        it, is deleted: never a sibling whose name merely starts with the key.
        Deleting a key that does not exist does nothing.

        Parameters
        ----------
        key: str
            Path to a file object in the storage volume.
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def erase(self) -> None:
        """Erase the storage volume base directory and all its contents."""
        raise NotImplementedError()  # pragma: no cover

    @classmethod
    @abstractmethod
    def from_dict(cls, doc: Dict[str, Any]) -> StorageVolume:
        """Get a volume instance from its dictionary serialization.

        Parameters
        ----------
        doc: dict
            Dictionary serialization as returned by the ``to_dict()`` method.

        Returns
        -------
        flowserv_fsspec.base.StorageVolume
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def get_store_for_folder(self, key: str, identifier: Optional[str] = None) -> StorageVolume:
        """Get storage volume for a sub-folder of the given volume.

        Parameters
        ----------
        key: string
            Relative path to sub-folder. The concatenation of the base folder
            for this storage volume and the given key will form the new base
            folder for the returned storage volume.
        identifier: string, default=None
            Unique volume identifier.

        Returns
        -------
        flowserv_fsspec.base.StorageVolume
        """
        raise NotImplementedError()  # pragma: no cover

    def key_type(self, key: Optional[str] = None) -> Optional[str]:
        """Tell what a key names: ``'file'``, ``'folder'`` or None (nothing).

        The volume root (None or '') is a folder when it exists, even empty.
        This generic version walks the key, so it cannot see empty folders;
        volumes with a cheaper metadata request override it.

        Parameters
        ----------
        key: string, default=None
            Key of a file or folder, None or '' for the volume root.

        Returns
        -------
        string or None
        """
        files = self.walk(key)
        if not files:
            return None
        return 'file' if key and len(files) == 1 and files[0][0] == key else 'folder'

    def overlaps(self, other: StorageVolume) -> bool:
        """Whether the two volumes share files: one's root is at or below the
        other's on the same storage. Volumes that cannot tell say False.

        Parameters
        ----------
        other: flowserv_fsspec.base.StorageVolume
            Another volume.

        Returns
        -------
        bool
        """
        return other is self

    @abstractmethod
    def load(self, key: str) -> IOHandle:
        """Load a file object at the source path of this volume store.

        Returns a file handle that can be used to open and read the file.

        Parameters
        ----------
        key: str
            Path to a file object in the storage volume.

        Returns
        -------
        flowserv_fsspec.base.IOHandle

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def mkdir(self, path: str) -> None:
        """Create the directory with the given (relative) path and all of its
        parent directories.

        Does not raise an error if the directory exists.

        Parameters
        ----------
        path: string
            Relative path to a directory in the storage volume.
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def query(self, filter: str) -> Iterable[str]:
        """Get the keys of the files whose key starts with the given prefix.

        Parameters
        ----------
        filter: str
            Prefix query for file keys (relative to the volume root).

        Returns
        -------
        iterable of string
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def store(self, file: IOHandle, dst: str) -> None:
        """Store a given file object at the destination path of this volume
        store.

        Parameters
        ----------
        file: flowserv_fsspec.base.IOHandle
            File-like object that is being stored.
        dst: str
            Destination path for the stored object.
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        The returned serialization can be used by the volume factory to generate
        a new instance of this volume store. It never contains credentials.

        Returns
        -------
        dict
        """
        raise NotImplementedError()  # pragma: no cover

    @abstractmethod
    def walk(self, src: Optional[str]) -> List[Tuple[str, IOHandle]]:
        """Get list of all files at the given source path.

        If the source path references a single file the returned list will
        contain a single entry whose key equals ``src``. If the source
        specifies a folder the result contains a list of all files in that
        folder and the subfolders. None or '' lists the whole volume. Keys are
        relative to the volume root.

        Parameters
        ----------
        src: str
            Source path specifying a file or folder.

        Returns
        -------
        list of tuples (str, flowserv_fsspec.base.IOHandle)
        """
        raise NotImplementedError()  # pragma: no cover
