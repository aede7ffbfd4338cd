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

from typing import IO, Iterable, List, Optional, Tuple, Union

from fsspec.callbacks import Callback, NoOpCallback

from flowserv_fsspec.base import IOHandle, StorageVolume
from flowserv_fsspec.keys import join_key
from flowserv_fsspec.volume import FsspecFile, FsspecVolume, translate_errors


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
    # Sizes of foreign handles may cost a download (flowserv's S3File): only
    # asked for when someone is watching.
    watched = callback is not None
    callback = callback if callback is not None else NoOpCallback()
    if watched:
        callback.set_size(sum(file.size() for _, file, _ in pairs))
    if same_filesystem(source, target):
        copy_server_side(pairs, target, callback)
    else:
        small, large = [], []
        for pair in pairs:
            (small if bulk_eligible(pair[1], source, target) else large).append(pair)
        copy_bulk(small, target, callback)
        for _, file, dstkey in large:
            size = file.size() if watched else 0  # before store(), which closes the handle
            target.store(file=StreamedFile(file) if isinstance(file, FsspecFile) else file,
                         dst=dstkey)
            callback.relative_update(size)
    if verbose:
        for key, _, dstkey in pairs:
            print(f'copied {key} to {dstkey}')
    return [dstkey for _, _, dstkey in pairs]


class StreamedFile(IOHandle):
    """A file read whole, front to back: fetched in STREAM_BLOCK_SIZE blocks
    (fewer requests than the small read-ahead of ``FsspecFile.open``).
    """

    def __init__(self, file: FsspecFile):
        self.file = file

    def open(self) -> IO[bytes]:
        """Open the file for sequential reading in large blocks."""
        with translate_errors(self.file.key, self.file.volume):
            return self.file.fs.open(self.file.path, 'rb', block_size=STREAM_BLOCK_SIZE)

    def size(self) -> int:
        """Get size of the file in the number of bytes."""
        return self.file.size()


def plan(src: Union[str, List[str], None], source: StorageVolume, dst: Optional[str]) -> List[Pair]:
    """List the files to copy and their destination keys (one walk per source)."""
    pairs: List[Pair] = list()
    for path in src if isinstance(src, list) else [src]:
        files = source.walk(src=path)
        if len(files) == 1 and files[0][0] == path:
            pairs.append((path, files[0][1], dst if dst is not None else path))
        else:
            prefix = path.rstrip('/') + '/' if path else ''
            pairs.extend((key, file, join_key(dst, key[len(prefix):])) for key, file in files)
    return pairs


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


def copy_server_side(pairs: List[Pair], target: StorageVolume, callback: Callback) -> None:
    """Copy within one filesystem: no payload passes through the client."""
    assert isinstance(target, FsspecVolume)
    for batch in batches(pairs):
        paths = target_paths(target, batch)
        files = [file for _, file, _ in batch]
        with translate_errors(batch[0][0], target.describe()):
            target.copy_within(files, paths)  # type: ignore[arg-type]
        callback.relative_update(sum(file.size() for file in files))


def copy_bulk(pairs: List[Pair], target: StorageVolume, callback: Callback) -> None:
    """Copy small files between two filesystems with one cat and one pipe per batch."""
    for batch in batches(pairs, max_bytes=BULK_BATCH_BYTES):
        assert isinstance(target, FsspecVolume)
        paths = target_paths(target, batch)
        files: List[FsspecFile] = [file for _, file, _ in batch]  # type: ignore[misc]
        contents = read_all(files)
        with translate_errors(batch[0][2], target.describe()):
            target.fs.pipe(dict(zip(paths, contents)))
        callback.relative_update(sum(len(data) for data in contents))


def read_all(files: List[FsspecFile]) -> List[bytes]:
    """Read small files of one filesystem concurrently, by byte range: the
    sizes are known from the listing, so no metadata request is made.
    """
    fs = files[0].fs
    wanted = [file for file in files if file.size() > 0]
    with translate_errors(files[0].key, files[0].volume):
        data = fs.cat_ranges(
            [file.path for file in wanted], [0] * len(wanted), [file.size() for file in wanted],
            on_error='raise'
        )
    by_path = dict(zip((file.path for file in wanted), data))
    return [by_path.get(file.path, b'') for file in files]
