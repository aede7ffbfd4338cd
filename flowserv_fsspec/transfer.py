"""How an fsspec-backed volume receives files: the strategies of a copy.

:meth:`flowserv_fsspec.volume.FsspecVolume.receive` hands a checked plan to
:func:`receive`, which picks, per file:

- **server-side copy** when both volumes are on the same filesystem (same
  S3 endpoint and credentials, same local disk, ...): the target's
  ``writes.copy_many`` with lists of paths, so no payload passes through the
  client (S3: CopyObject);
- **bulk transfer** for small files of another fsspec filesystem: one
  concurrent ranged read (``fs.cat_ranges``) and one concurrent write (the
  target's ``writes.put_many``) per batch, each batch bounded in files and bytes;
- **streaming** for large files and for handles of volumes that only follow
  the contract (flowserv's own): ``store()`` in blocks, never the whole file
  in memory.

This module knows the target only by the methods of :class:`Target`; it
imports neither the volume classes nor the contract's volume.
"""

from itertools import groupby
from typing import Callable, Iterable, Iterator, List, Optional, Protocol, Sequence, Union

from fsspec import AbstractFileSystem

from flowserv_fsspec.concurrency import gather, is_async
from flowserv_fsspec.errors import UnknownFileError
from flowserv_fsspec.files import FsspecFile, StreamedFile
from flowserv_fsspec.handles import IOHandle, modified_of
from flowserv_fsspec.plan import Pair
from flowserv_fsspec.progress import Progress, stream_into
from flowserv_fsspec.translate import typed_error
from flowserv_fsspec.writes import Writes


BULK_FILE_LIMIT = 8 * 1024 * 1024
"""Files up to this size are moved in bulk batches; larger ones are streamed."""

BULK_BATCH_BYTES = 64 * 1024 * 1024
"""At most this many bytes are held in memory by one bulk batch."""

BULK_BATCH_FILES = 500
"""At most this many files are moved by one bulk or server-side batch."""


class Target(Protocol):
    """What the strategies need of the receiving volume."""

    fs: AbstractFileSystem

    def describe(self) -> str:
        """Describe the volume (for error messages)."""

    def path(self, key: str) -> str:
        """Map a key to its path in ``fs`` (validating it)."""

    writes: Writes

    def store(self, file: IOHandle, dst: str) -> None:
        """Store one file, streamed."""


def receive(target: Target, pairs: Iterable[Pair], progress: Progress, same_fs: bool) -> None:
    """Copy planned files into an fsspec-backed volume with the cheapest
    strategy for each, batch by batch as the plan streams, in its order.

    Parameters
    ----------
    target: flowserv_fsspec.transfer.Target
        The receiving volume.
    pairs: iterable of (string, flowserv_fsspec.handles.IOHandle, string)
        Source key, handle and validated destination key of each file.
    progress: flowserv_fsspec.progress.Progress
        Record of the keys written.
    same_fs: bool
        Whether the source volume is on the target's filesystem.
    """
    if same_fs:
        for batch in batches(pairs):
            copy_server_side(batch, target, progress)
        return
    for batch in batches(pairs, weight=bulk_size, max_weight=BULK_BATCH_BYTES):
        for small, run in groupby(batch, key=lambda pair: bulk_size(pair) is not None):
            if small:
                copy_bulk(list(run), target, progress)
            else:
                stream_into(target, (
                    (key, StreamedFile(file) if isinstance(file, FsspecFile) else file, dstkey)
                    for key, file, dstkey in run
                ), progress)


def bulk_size(pair: Pair) -> Optional[int]:
    """Give the size of a file that moves in a bulk batch (a small file of an
    fsspec filesystem); None for a file that is streamed.
    """
    file = pair[1]
    if not isinstance(file, FsspecFile):
        return None
    size = file.size()
    return size if size <= BULK_FILE_LIMIT else None


def batches(
    pairs: Iterable[Pair], weight: Callable[[Pair], Optional[int]] = lambda pair: None,
    max_weight: Optional[int] = None
) -> Iterator[List[Pair]]:
    """Take files from a plan in batches of at most BULK_BATCH_FILES files
    whose weights (bytes held in memory; None: none) add up to at most
    ``max_weight``.
    """
    batch: List[Pair] = list()
    total = 0
    for pair in pairs:
        nbytes = weight(pair) or 0
        full = len(batch) == BULK_BATCH_FILES
        if batch and (full or (max_weight is not None and total + nbytes > max_weight)):
            yield batch
            batch, total = list(), 0
        batch.append(pair)
        total += nbytes
    if batch:
        yield batch


def fsspec_files(batch: Sequence[Pair]) -> List[FsspecFile]:
    """Give the handles of a batch: server-side and bulk copies take FsspecFiles only."""
    files: List[FsspecFile] = list()
    for key, file, _ in batch:
        if not isinstance(file, FsspecFile):
            raise TypeError(f'{key!r}: server-side and bulk copies take FsspecFile handles only')
        files.append(file)
    return files


def copy_server_side(pairs: Iterable[Pair], target: Target, progress: Progress) -> None:
    """Copy within one filesystem: no payload passes through the client. A
    file copied onto itself is left as it is.
    """
    for batch in batches(pairs):
        files = fsspec_files(batch)
        paths = [target.path(dstkey) for _, _, dstkey in batch]
        moving = [i for i, (file, path) in enumerate(zip(files, paths)) if file.path != path]
        outcomes: List[Optional[BaseException]] = [None] * len(batch)
        copied = target.writes.copy_many(
            [files[i] for i in moving], [batch[i][2] for i in moving], [paths[i] for i in moving]
        )
        for i, error in zip(moving, copied):
            outcomes[i] = error
            if error is not None and not files[i].fs.exists(files[i].path):
                outcomes[i] = UnknownFileError(batch[i][0], files[i].volume)
        progress.finished(batch, outcomes)


def copy_bulk(pairs: Iterable[Pair], target: Target, progress: Progress) -> None:
    """Copy small files between two filesystems: one concurrent read and one
    concurrent write per batch. A file that cannot be read is not written.
    """
    for batch in batches(pairs, weight=bulk_size, max_weight=BULK_BATCH_BYTES):
        contents = read_all(batch)
        readable = [(i, data) for i, data in enumerate(contents) if isinstance(data, bytes)]
        written = target.writes.put_many(
            [batch[i][2] for i, _ in readable], [target.path(batch[i][2]) for i, _ in readable],
            [data for _, data in readable], [modified_of(batch[i][1]) for i, _ in readable]
        )
        outcomes: List[Optional[BaseException]] = [
            data if isinstance(data, BaseException) else None for data in contents
        ]
        for (i, _), error in zip(readable, written):
            outcomes[i] = error
        done = [i for i, data in enumerate(contents) if data is not CHANGED]
        progress.finished([batch[i] for i in done], [outcomes[i] for i in done])
        # Files whose size changed since the listing are streamed as they are
        # now (a log that grew to gigabytes is not read into memory).
        files = fsspec_files(batch)
        stream_into(target, [
            (key, StreamedFile(files[i].again()), dstkey)
            for i, (key, _, dstkey) in enumerate(batch) if contents[i] is CHANGED
        ], progress)


class Changed:
    """The mark of a file whose size is not the listed one (see :func:`read_all`)."""


CHANGED = Changed()


def read_all(batch: List[Pair]) -> List[Union[bytes, BaseException, Changed]]:
    """Read small files of one filesystem concurrently, by byte range: the
    sizes are known from the listing, so no metadata request is made. One
    byte more than the listed size is asked for, so that a file replaced
    since the listing is noticed (never copied cut short): it is marked
    CHANGED, to be streamed as it is now. An empty file is not read: empty
    is the version that was listed. A file that cannot be read gives its
    typed error, named by its source key.
    """
    files = fsspec_files(batch)
    fs = files[0].fs
    wanted = [i for i, file in enumerate(files) if file.size() > 0]
    if is_async(fs):  # each handle reads (S3's keeps the kept time of its answer)
        data = gather(fs, [files[i].read_head(files[i].size() + 1) for i in wanted])
    else:
        data = fs.cat_ranges(
            [files[i].path for i in wanted], [0] * len(wanted),
            [files[i].size() + 1 for i in wanted], on_error='return'
        )
    result: List[Union[bytes, BaseException, Changed]] = [b''] * len(files)
    for i, content in zip(wanted, data):
        if isinstance(content, bytes):
            result[i] = content if len(content) == files[i].size() else CHANGED
        else:
            result[i] = typed_error(content, batch[i][0], files[i].volume)
    return result
