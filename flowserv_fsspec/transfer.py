"""Copying files between two storage volumes.

``copy_files`` lists the source once and picks, for each pair of volumes:

- **server-side copy** when both volumes are on the same filesystem (same
  S3 endpoint and credentials, same local disk, ...): ``fs.copy`` with lists
  of paths, so no payload passes through the client (S3: CopyObject);
- **bulk transfer** between two fsspec volumes: small files are read with one
  ``fs.cat`` and written with one ``fs.pipe`` per batch (concurrent requests
  on async filesystems), each batch bounded in bytes;
- **streaming** for large files and for volumes that only follow the
  contract (flowserv's own): ``open()`` to ``store()`` in chunks, never the
  whole file in memory.

The destination keys are returned in the order of the source listing; an
optional fsspec ``Callback`` is told the total bytes and each file's bytes.
"""

import io
from typing import IO, Dict, Iterable, List, Optional, Tuple, Union

from fsspec.callbacks import Callback

from flowserv_fsspec.base import IOHandle, StorageVolume
from flowserv_fsspec.errors import (
    TransferError,
    UnknownFileError,
    UnsafeOperationError,
    VolumeNotFoundError,
)
from flowserv_fsspec.keys import join_key, normalize_key
from flowserv_fsspec.translate import translate_errors, typed_error
from flowserv_fsspec.volume import FsspecFile, FsspecVolume


BULK_FILE_LIMIT = 8 * 1024 * 1024
"""Files up to this size are moved in bulk batches; larger ones are streamed."""

BULK_BATCH_BYTES = 64 * 1024 * 1024
"""At most this many bytes are held in memory by one bulk batch."""

STREAM_BLOCK_SIZE = 8 * 1024 * 1024
"""Block size of reads when a large file is streamed whole into another volume."""

BULK_BATCH_FILES = 500
"""At most this many files are moved by one bulk or server-side batch."""


Pair = Tuple[str, IOHandle, str]
"""A source key, its handle and the destination key."""


def copy_files(
    src: Union[str, List[str], None], source: StorageVolume, dst: Optional[str],
    target: StorageVolume, verbose: bool = False, callback: Optional[Callback] = None
) -> List[str]:
    """Copy files and folders at the source path (path) of a given source
    storage volume to the destination path (path) of a target storage volume.

    A single file is copied to ``dst`` (or to its own key when ``dst`` is
    None). The files of a folder keep their path below that folder and are
    placed below ``dst`` (or below the target's root when ``dst`` is None).
    None or '' copies the whole source volume.

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
        Progress: ``set_size`` with the total bytes, ``relative_update`` with
        each copied file's bytes.

    Returns
    -------
    list of string
        The destination keys, in the order of the source listing.
    """
    if verbose:
        print(f'Copy files from {source.describe()} to {target.describe()}')
    pairs = plan(src, source, dst)
    copy_planned(pairs, source, target, callback)
    if verbose:
        for key, _, dstkey in pairs:
            print(f'copied {key} to {dstkey}')
    return [dstkey for _, _, dstkey in pairs]


def copy_planned(
    pairs: List[Pair], source: StorageVolume, target: StorageVolume,
    callback: Optional[Callback] = None
) -> None:
    """Copy listed files (source key, handle, destination key) with the
    cheapest strategy for the pair of volumes.

    Parameters
    ----------
    pairs: list of (string, flowserv_fsspec.base.IOHandle, string)
        Files from ``source.walk()`` and their destination keys (validated).
    source: flowserv_fsspec.base.StorageVolume
        Volume that the handles belong to.
    target: flowserv_fsspec.base.StorageVolume
        Volume to copy to.
    callback: fsspec.callbacks.Callback, default=None
        Progress in bytes.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        Two files for one destination key (nothing was copied).
    flowserv_fsspec.errors.VolumeNotFoundError
        The target's bucket or container does not exist.
    flowserv_fsspec.errors.TransferError
        A copy that stopped part way, naming the files done and pending.
    """
    # Sizes of foreign handles may cost a download (flowserv's S3File): only
    # asked for when someone is watching.
    check_destinations(pairs, target)
    progress = Progress(target.describe(), callback)
    if callback is not None:
        callback.set_size(sum(file.size() for _, file, _ in pairs))
    try:
        if same_filesystem(source, target):
            copy_server_side(pairs, source, target, progress)
        else:
            small: List[Pair] = list()
            large: List[Pair] = list()
            for pair in pairs:
                (small if bulk_eligible(pair[1], source, target) else large).append(pair)
            copy_bulk(small, target, progress)
            copy_streamed(large, target, progress)
    except VolumeNotFoundError:
        raise  # the target's container is missing: nothing could be copied
    except Exception as ex:
        done = set(progress.done)
        pending = [dstkey for _, _, dstkey in pairs if dstkey not in done]
        failed = getattr(ex, 'key', None) or (pending[0] if pending else '')
        raise TransferError(
            failed, source.describe(), target.describe(), progress.done, pending, ex
        ) from ex


def check_destinations(pairs: List[Pair], target: StorageVolume) -> None:
    """Refuse a plan that would write one destination key twice, or, on a
    target with folders, a key that is a file and a folder at once.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    sources: Dict[str, str] = dict()
    for key, _, dstkey in pairs:
        if dstkey in sources:
            raise UnsafeOperationError(
                f'copy to {target.describe()}',
                f'{sources[dstkey]!r} and {key!r} would both be written to {dstkey!r}'
            )
        sources[dstkey] = key
    if getattr(target, 'has_directories', True):
        for dstkey in sources:
            parent = dstkey.rpartition('/')[0]
            while parent:
                if parent in sources:
                    raise UnsafeOperationError(
                        f'copy to {target.describe()}',
                        f'{parent!r} would be a file and the folder of {dstkey!r} '
                        f'(from {sources[parent]!r} and {sources[dstkey]!r})'
                    )
                parent = parent.rpartition('/')[0]


class Progress:
    """The destination keys copied so far, and the bytes told to a callback."""

    def __init__(self, volume: str, callback: Optional[Callback]):
        """Initialize with the target volume and an optional progress callback.

        Parameters
        ----------
        volume: string
            Description of the target volume (for error messages).
        callback: fsspec.callbacks.Callback, default=None
            Told each copied file's bytes (sizes are only asked for when given).
        """
        self.volume = volume
        self.callback = callback
        self.done: List[str] = list()

    def finished(
        self, batch: List[Pair], outcomes: List[Optional[BaseException]],
        nbytes: Optional[int] = None
    ) -> None:
        """Record the pairs of a batch that were copied; raise the first
        failure as a typed error naming its destination key.

        Parameters
        ----------
        batch: list of (string, IOHandle, string)
            Source key, handle and destination key of each file.
        outcomes: list of Exception or None
            Each file's error, None where it was copied.
        nbytes: int, default=None
            Bytes copied, when already known.
        """
        copied = [pair for pair, error in zip(batch, outcomes) if error is None]
        self.done.extend(dstkey for _, _, dstkey in copied)
        if self.callback is not None:
            if nbytes is None:
                nbytes = sum(file.size() for _, file, _ in copied)
            self.callback.relative_update(nbytes)
        for (_, _, dstkey), error in zip(batch, outcomes):
            if error is not None:
                # Read errors are typed already: a missing path here is the target's.
                raise typed_error(error, dstkey, self.volume, VolumeNotFoundError) from error


class StreamedFile(IOHandle):
    """A file read whole, front to back: streamed in STREAM_BLOCK_SIZE blocks
    (fewer requests than the small read-ahead of ``FsspecFile.stream``).
    """

    def __init__(self, file: FsspecFile):
        self.file = file

    def open(self) -> io.BytesIO:
        """Read the whole file into a BytesIO."""
        return self.file.open()

    def stream(self) -> IO[bytes]:
        """Open the file for sequential reading in large blocks."""
        with translate_errors(self.file.key, self.file.volume):
            handle: IO[bytes] = self.file.fs.open(
                self.file.path, 'rb', block_size=STREAM_BLOCK_SIZE
            )
        return handle

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        return self.file.size()


def plan(src: Union[str, List[str], None], source: StorageVolume, dst: Optional[str]) -> List[Pair]:
    """List the files to copy and their destination keys (one walk per source);
    every destination key is validated before anything is copied.
    """
    pairs: List[Pair] = list()
    for path in src if isinstance(src, list) else [src]:
        pairs.extend(destinations(path, source.walk(src=path), dst))
    return pairs


def destinations(
    path: Optional[str], files: List[Tuple[str, IOHandle]], dst: Optional[str]
) -> List[Pair]:
    """Give the files that ``walk(path)`` found their destination keys
    (flowserv's rules): the file at ``path`` itself goes to ``dst`` (or its
    own key), the files of a folder keep their path below it, under ``dst``;
    on object stores ``path`` can name a file and a folder at once.

    Parameters
    ----------
    path: string
        Source key that was walked ('' or None for the whole volume).
    files: list of (string, flowserv_fsspec.base.IOHandle)
        The result of ``source.walk(path)``.
    dst: string
        Destination key.

    Returns
    -------
    list of (string, flowserv_fsspec.base.IOHandle, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidKeyError
    """
    prefix = path.rstrip('/') + '/' if path else ''
    pairs = [
        (key, file, (dst if dst is not None else key) if key == path
         else join_key(dst, key[len(prefix):]))
        for key, file in files
    ]
    return [(key, file, normalize_key(dstkey)) for key, file, dstkey in pairs]


def same_filesystem(source: StorageVolume, target: StorageVolume) -> bool:
    """Whether both volumes are on one fsspec filesystem (same class and options)."""
    return (
        isinstance(source, FsspecVolume) and isinstance(target, FsspecVolume)
        and source.fs == target.fs
    )


def bulk_eligible(file: IOHandle, source: StorageVolume, target: StorageVolume) -> bool:
    """Whether a file goes through the bulk path rather than a stream."""
    return (
        isinstance(file, FsspecFile) and isinstance(target, FsspecVolume)
        and isinstance(source, FsspecVolume) and file.size() <= BULK_FILE_LIMIT
    )


def batches(pairs: List[Pair], max_bytes: Optional[int] = None) -> Iterable[List[Pair]]:
    """Split pairs into batches of at most BULK_BATCH_FILES files and max_bytes."""
    batch: List[Pair] = list()
    size = 0
    for pair in pairs:
        nbytes = pair[1].size()
        if batch and (len(batch) == BULK_BATCH_FILES or (max_bytes and size + nbytes > max_bytes)):
            yield batch
            batch, size = list(), 0
        batch.append(pair)
        size += nbytes
    if batch:
        yield batch


def target_paths(target: FsspecVolume, batch: List[Pair]) -> List[str]:
    """Validate the destination keys and map them to paths, creating parent
    folders on filesystems that have them.
    """
    paths = [target._resolve(dstkey)[1] for _, _, dstkey in batch]
    if target.has_directories:
        for parent in sorted({target.fs._parent(path) for path in paths}):
            with translate_errors(parent, target.describe()):
                target.fs.makedirs(parent, exist_ok=True)
    return paths


def copy_server_side(
    pairs: List[Pair], source: StorageVolume, target: StorageVolume, progress: Progress
) -> None:
    """Copy within one filesystem: no payload passes through the client. A
    file copied onto itself is left as it is.
    """
    assert isinstance(target, FsspecVolume)
    for batch in batches(pairs):
        paths = target_paths(target, batch)
        files: List[FsspecFile] = [file for _, file, _ in batch]  # type: ignore[misc]
        moving = [i for i, (file, path) in enumerate(zip(files, paths)) if file.path != path]
        outcomes: List[Optional[BaseException]] = [None] * len(batch)
        copied = target.copy_within([files[i] for i in moving], [paths[i] for i in moving])
        for i, error in zip(moving, copied):
            outcomes[i] = error
            if error is not None and not files[i].fs.exists(files[i].path):
                outcomes[i] = UnknownFileError(batch[i][0], source.describe())
        progress.finished(batch, outcomes)


def copy_bulk(pairs: List[Pair], target: StorageVolume, progress: Progress) -> None:
    """Copy small files between two filesystems: one concurrent read and one
    concurrent write per batch. A file that cannot be read is not written.
    """
    assert not pairs or isinstance(target, FsspecVolume)
    for batch in batches(pairs, max_bytes=BULK_BATCH_BYTES):
        contents = read_all(batch)
        readable = [i for i, data in enumerate(contents) if isinstance(data, bytes)]
        written = target.put_many(  # type: ignore[attr-defined]
            [batch[i][2] for i in readable], [contents[i] for i in readable]
        )
        outcomes: List[Optional[BaseException]] = [
            data if isinstance(data, BaseException) else None for data in contents
        ]
        for i, error in zip(readable, written):
            outcomes[i] = error
        progress.finished(batch, outcomes)


def copy_streamed(pairs: List[Pair], target: StorageVolume, progress: Progress) -> None:
    """Copy large files (and those of foreign volumes) one by one, in blocks."""
    for pair in pairs:
        _, file, dstkey = pair
        # The size is asked before store(), which closes the handle.
        nbytes = file.size() if progress.callback is not None else 0
        target.store(file=StreamedFile(file) if isinstance(file, FsspecFile) else file, dst=dstkey)
        progress.finished([pair], [None], nbytes)


def read_all(batch: List[Pair]) -> List[Union[bytes, BaseException]]:
    """Read small files of one filesystem concurrently, by byte range: the
    sizes are known from the listing, so no metadata request is made. One
    byte more than the listed size is asked for, so that a file replaced
    since the listing is noticed and read again whole (one request: one
    version of it), never copied cut short. An empty file is not read: empty
    is the version that was listed. A file that cannot be read gives its
    typed error, named by its source key.
    """
    files: List[FsspecFile] = [file for _, file, _ in batch]  # type: ignore[misc]
    fs = files[0].fs
    wanted = [i for i, file in enumerate(files) if file.size() > 0]
    data = fs.cat_ranges(
        [files[i].path for i in wanted], [0] * len(wanted),
        [files[i].size() + 1 for i in wanted], on_error='return'
    )
    result: List[Union[bytes, BaseException]] = [b''] * len(files)
    for i, content in zip(wanted, data):
        if isinstance(content, bytes) and len(content) != files[i].size():
            try:
                content = fs.cat_file(files[i].path)
            except Exception as ex:
                content = ex
        result[i] = content if isinstance(content, bytes) else typed_error(
            content, batch[i][0], files[i].volume
        )
    return result
