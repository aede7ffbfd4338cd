"""The storage-volume contract: the abstract storage volume, its file handles
and ``copy_files``, with the methods, arguments and meaning of
``flowserv.volume.base`` (code written against flowserv's volumes works with
ours). Keys are '/'-separated and relative to the volume root, on every backend.

``copy_files`` streams the source's listing as a plan, checked before its
first write (:mod:`flowserv_fsspec.plan`), into the target's ``receive()``: a
stream of ``store()`` calls, or a cheaper way that a volume knows (server-side
or bulk copies, :mod:`flowserv_fsspec.transfer`). It imports no implementation.
"""
from __future__ import annotations

import functools
import uuid
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from fsspec.callbacks import Callback

from flowserv_fsspec.errors import UnsafeOperationError, VolumeNotFoundError
from flowserv_fsspec.handles import IOBuffer as IOBuffer  # re-exported: flowserv's module
from flowserv_fsspec.handles import IOHandle as IOHandle
from flowserv_fsspec.handles import read_stream as read_stream
from flowserv_fsspec.keys import is_within, normalize_key
from flowserv_fsspec.leftovers import Leftover
from flowserv_fsspec.plan import Ends, Pair, planned
from flowserv_fsspec.progress import KeyLog, Progress, stream_into


class StorageVolume(metaclass=ABCMeta):
    """A file-system-like store for the files of workflow runs.

    Each volume has a unique identifier that is used to keep track of which
    files and file versions are available in the volume. All keys are
    relative to the volume's root and '/'-separated.
    """

    folders: Optional[bool] = None
    """Whether no key can name a file and a folder at once (None: not known)."""
    shared = True
    """Whether another process that rebuilds the volume from its document sees its files."""

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
            The files that were copied (their destination keys).
        """
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

    def delete_files(self, keys: List[str]) -> None:
        """Delete the files at keys that ``walk()`` gave, each exactly (a folder of
        the same name stays; a missing file is fine): here one ``delete()`` each.
        """
        for key in keys:
            self.delete(key)

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
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> StorageVolume:
        """Get a volume instance from its dictionary serialization (and
        ``storage_options``, never serialized).

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

    def find_leftovers(self, older_than: float) -> List[Leftover]:
        """Find the leftovers of unfinished writes (temporary files, open
        multipart uploads) at least ``older_than`` seconds old (younger ones
        may belong to writes under way). Volumes that cannot tell find none.
        """
        return []

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
        """Whether this volume and ``other`` share files (one holds the other)."""
        return self.holds(other) or other.holds(self)

    def holds(self, other: StorageVolume) -> bool:
        """Whether ``other``'s root is at or below this one's (if unknown: itself)."""
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

    def query(self, filter: str) -> List[str]:
        """Get the keys of the files whose key starts with the given prefix.

        Walks only the folder that holds the prefix's last segment.

        Parameters
        ----------
        filter: str
            Prefix query for file keys (relative to the volume root).

        Returns
        -------
        list of string

        Raises
        ------
        flowserv_fsspec.errors.InvalidKeyError
        """
        prefix = normalize_key(filter, allow_empty=True)
        if prefix and filter.endswith('/'):
            prefix += '/'
        folder = prefix.rpartition('/')[0]
        return [key for key, _ in self.walk(folder) if key.startswith(prefix)]

    def receive(self, pairs: Iterable[Pair], progress: Progress, source: StorageVolume) -> None:
        """Write the planned files as the checked plan streams (the last step
        of ``copy_files``): one ``store()`` each; cheaper ways override it.

        Parameters
        ----------
        pairs: iterable of (string, flowserv_fsspec.handles.IOHandle, string)
            Source key, handle and validated destination key of each file.
        progress: flowserv_fsspec.progress.Progress
            Record of the keys written (and the progress callback).
        source: flowserv_fsspec.base.StorageVolume
            Volume that the handles belong to.
        """
        stream_into(self, pairs, progress)

    @abstractmethod
    def store(self, file: IOHandle, dst: str) -> None:
        """Store a given file object at the destination path of this volume store.

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

    def iter_walk(self, src: Optional[str]) -> Iterator[Tuple[str, IOHandle]]:
        """Stream what ``walk(src)`` lists in the order of the keys (here: ``walk`` sorted)."""
        return iter(sorted(self.walk(src), key=lambda item: item[0]))


# -- Copying between volumes -------------------------------------------------

def copy_files(
    src: Union[str, List[str], None], source: StorageVolume, dst: Optional[str],
    target: StorageVolume, verbose: bool = False, callback: Optional[Callback] = None
) -> List[str]:
    """Copy files and folders at the source path (path) of a given source
    storage volume to the destination path (path) of a target storage volume.

    A single file is copied to ``dst`` (or to its own key when ``dst`` is
    None). The files of a folder keep their path below that folder and are
    placed below ``dst`` (or below the target's root when ``dst`` is None).
    None or '' copies the whole source volume. The source is listed as a
    stream (see :func:`flowserv_fsspec.plan.planned`).

    Parameters
    ----------
    src: str or list of string
        Path specifying the source file(s) or folder(s).
    source: flowserv_fsspec.base.StorageVolume
        Storage volume for source files.
    dst: string
        Destination path for copied files.
    target: flowserv_fsspec.base.StorageVolume
        Storage volume for destination files.
    verbose: bool, default=False
        Print information about source and target volume and the files that are
        being copied.
    callback: fsspec.callbacks.Callback, default=None
        Progress: ``set_size`` with the bytes of the files listed so far
        (growing while the listing streams), ``relative_update`` with each
        copied file's bytes.

    Returns
    -------
    list of string
        The destination keys, in the order of the source listing.
    """
    if verbose:
        print(f'Copy files from {source.describe()} to {target.describe()}')
    return list(copy_planned(
        planned(src if isinstance(src, list) else [src], dst, ends(source, target)),
        source, target, callback,
        report=(lambda key, dstkey: print(f'copied {key} to {dstkey}')) if verbose else None
    ))


def copy_planned(
    pairs: Iterable[Pair], source: StorageVolume, target: StorageVolume,
    callback: Optional[Callback] = None, report: Optional[Callable[[str, str], None]] = None
) -> KeyLog:
    """Copy planned files (source key, handle, destination key) with the
    cheapest strategy that the target knows (its ``receive()``), as the
    plan streams.

    Parameters
    ----------
    pairs: iterable of (string, flowserv_fsspec.handles.IOHandle, string)
        Files of ``source`` and their destination keys (validated and checked:
        see :func:`flowserv_fsspec.plan.planned`).
    source: flowserv_fsspec.base.StorageVolume
        Volume that the handles belong to.
    target: flowserv_fsspec.base.StorageVolume
        Volume to copy to.
    callback: fsspec.callbacks.Callback, default=None
        Progress in bytes.
    report: callable, default=None
        Told the source and destination key of each file copied.

    Returns
    -------
    flowserv_fsspec.progress.KeyLog
        The destination keys copied, in the order of the plan (the first
        100,000 in memory, the rest in a temporary file).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        A plan refused before any write.
    flowserv_fsspec.errors.VolumeNotFoundError
        The target's bucket or container does not exist.
    flowserv_fsspec.errors.TransferError
        A copy that stopped part way, naming the files done and pending.
    """
    progress = Progress(target.describe(), callback, report)
    taken = progress.take(pairs)
    try:
        if isinstance(target, StorageVolume):
            target.receive(taken, progress, source)
        else:  # flowserv's own volumes only store
            stream_into(target, taken, progress)
    except Exception as ex:
        if isinstance(ex, (UnsafeOperationError, VolumeNotFoundError)) and not progress.done:
            raise  # refused before any write, or the target's container is missing
        raise progress.stopped(ex, taken, source.describe()) from ex
    return progress.done


def ends(source: Any, target: Any) -> Ends:
    """Get what a plan needs to know of the volumes of a copy; flowserv's own
    are listed by the contract's ``iter_walk`` (``walk``, sorted), may hold
    anything as a source and count as having folders as a target.
    """
    target_folders = target.folders if isinstance(target, StorageVolume) else True
    own = isinstance(source, StorageVolume)
    return Ends(
        source.iter_walk if own else functools.partial(StorageVolume.iter_walk, source),
        source.folders if own else None, target_folders, target.describe(),
        functools.partial(nested, source, target)
    )


def nested(source: Any, target: Any, src: str, dst: str) -> bool:
    """Tell whether a folder copied from key ``src`` of ``source`` to key
    ``dst`` of ``target`` (normal keys, '' for a root) lies strictly below or
    above its destination (see ``holds``). Onto itself (the same place) it is
    not nested, nor is a file (it goes to ``dst`` or, with none, onto itself).
    """
    if not (isinstance(source, StorageVolume) and isinstance(target, StorageVolume)):
        return False  # flowserv's own volumes cannot tell
    if source is target:
        inside = src != dst and (is_within(src, dst) or is_within(dst, src))
    else:
        one = source.get_store_for_folder(src) if src else source
        other = target.get_store_for_folder(dst) if dst else target
        inside = one.holds(other) != other.holds(one)
    return inside and (not src or source.key_type(src) != 'file')
