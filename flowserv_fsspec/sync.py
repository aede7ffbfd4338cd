"""Making one volume hold the same files as another (rclone's ``sync``).

A file is copied when the target lacks it, or holds another size, or (as
rclone does) another modification time: copies keep their source's time
where the storage can (a local file's mtime; the ``mtime`` metadata of an S3
object, rclone's), and those times are compared for equality; where the
target only has the time it was written (an upload time), the file is
copied if the source was modified after that. Where either side tells no
time, sizes alone decide. ``size_only`` compares sizes only; ``checksum``
compares sizes and contents (both files are read and hashed: backends' own
checksums, such as S3 ETags, are not comparable across backends). With
``delete``, target files that the source lacks are deleted, after the
copies succeeded.

Both sides are listed as streams sorted by key and merged as they arrive
(:mod:`flowserv_fsspec.march`): what a sync holds grows with what differs,
never with the files that are the same on both sides.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
from collections import deque
from dataclasses import dataclass, field
from itertools import chain
from typing import Deque, Iterator, List, Optional, Tuple

from fsspec.callbacks import Callback

from flowserv_fsspec.base import StorageVolume, copy_planned, ends
from flowserv_fsspec.errors import UnsafeOperationError, VolumeNotFoundError
from flowserv_fsspec.handles import COPY_CHUNK, IOHandle, modified_of, read_stream
from flowserv_fsspec.march import Listed, Marched, march
from flowserv_fsspec.plan import Pair, Refusals


@dataclass
class SyncResult:
    """What a sync did (or, in a dry run, would do), by key."""

    copied: List[str] = field(default_factory=list)
    """Keys copied because the target lacked them or held other contents."""
    deleted: List[str] = field(default_factory=list)
    """Target keys deleted because the source lacks them (``delete=True``)."""
    unchanged: int = 0
    """Number of files that were already the same on both sides."""


MODIFY_WINDOW = 0.001
"""Seconds by which two kept modification times may differ and still be
equal (the precision of the times in S3 metadata and of local disks)."""

WRITTEN_WINDOW = 1.0
"""Seconds by which a source may be newer than the time its target was
written and still count as older (SFTP, FTP and HTTP dates count whole
seconds), and by which a source's upload time (an object without kept
time: whole seconds in S3 answers) may differ from its copy's time (another
tool may have kept it finer, as rclone does) and still be equal."""


def sync_files(
    source: StorageVolume, target: StorageVolume, delete: bool = False,
    checksum: bool = False, dry_run: bool = False, callback: Optional[Callback] = None,
    max_delete: Optional[int] = None, allow_empty_source: bool = False,
    size_only: bool = False
) -> SyncResult:
    """Copy what the target lacks or holds differently; optionally delete what
    the source lacks.

    Everything that could lose data is refused before the first write: a
    source that does not exist or is a file, source and target that overlap,
    ``delete`` with an empty source (unless ``allow_empty_source``), and more
    deletions than ``max_delete``.

    Parameters
    ----------
    source: flowserv_fsspec.base.StorageVolume
        Volume whose files are copied.
    target: flowserv_fsspec.base.StorageVolume
        Volume that is made to match the source.
    delete: bool, default=False
        Delete target files that are not in the source (after copying).
    checksum: bool, default=False
        Compare the contents (sha256) of files whose sizes match, not their
        modification times.
    dry_run: bool, default=False
        Only say what would be copied and deleted.
    callback: fsspec.callbacks.Callback, default=None
        Progress of the copy in bytes.
    max_delete: int, default=None
        Refuse the sync when it would delete more files than this.
    allow_empty_source: bool, default=False
        With ``delete``, let an existing but empty source empty the target.
    size_only: bool, default=False
        Compare sizes only (not modification times).

    Returns
    -------
    flowserv_fsspec.sync.SyncResult

    Raises
    ------
    flowserv_fsspec.errors.VolumeNotFoundError
        The source does not exist.
    flowserv_fsspec.errors.UnsafeOperationError
        The sync was refused; nothing was written.
    flowserv_fsspec.errors.TransferError
    """
    what = f'sync from {source.describe()} to {target.describe()}'
    if source.overlaps(target):
        raise UnsafeOperationError(what, 'source and target overlap')
    files = source.iter_walk(None)
    first = next(files, None)
    if first is None:
        refuse_no_folder(what, source)
    result = SyncResult()
    source_files = chain([first], files) if first is not None else files
    pairs = compared(source_files, target.iter_walk(None), ends(source, target).refusals(),
                     result, delete, checksum, size_only)
    refuse_deletions(what, len(result.deleted), first is None and not allow_empty_source,
                     max_delete)
    if not dry_run:
        copy_planned(pairs, source, target, callback)
        target.delete_files(result.deleted)
    return result


def refuse_no_folder(what: str, source: StorageVolume) -> None:
    """Refuse a sync whose source does not exist or is a file.

    Raises
    ------
    flowserv_fsspec.errors.VolumeNotFoundError
    flowserv_fsspec.errors.UnsafeOperationError
    """
    found = source.key_type(None)
    if found is None:
        raise VolumeNotFoundError(source.describe())
    if found == 'file':
        raise UnsafeOperationError(what, 'the source is a file (sync copies folders; use cp)')


def refuse_deletions(
    what: str, deletions: int, empty_source: bool, max_delete: Optional[int]
) -> None:
    """Refuse a sync's deletions, before its first write: any, from an empty
    source (not explicitly allowed), or more than ``max_delete``.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    if deletions and empty_source:
        raise UnsafeOperationError(
            what, f'the source is empty: it would delete all {deletions} files '
            'of the target (allow an empty source explicitly to do that)'
        )
    if max_delete is not None and deletions > max_delete:
        raise UnsafeOperationError(
            what, f'it would delete {deletions} files, more than the maximum of {max_delete}'
        )


def compared(
    source_files: Iterator[Listed], target_files: Iterator[Listed], refusals: Refusals,
    result: SyncResult, delete: bool, checksum: bool, size_only: bool
) -> List[Pair]:
    """Compare two listings sorted by key (see the module): count the
    unchanged files and note the keys to copy and to delete in a result.

    Parameters
    ----------
    source_files: iterator of (string, flowserv_fsspec.handles.IOHandle)
        The source's files (``iter_walk``).
    target_files: iterator of (string, flowserv_fsspec.handles.IOHandle)
        The target's files at the same keys (``iter_walk``).
    refusals: flowserv_fsspec.plan.Refusals
        Checks of the files to copy.
    result: flowserv_fsspec.sync.SyncResult
        Where the keys and the count go.
    delete: bool
        Note target files that the source lacks, for deletion.
    checksum: bool
        Compare contents.
    size_only: bool
        Compare sizes only.

    Returns
    -------
    list of (string, flowserv_fsspec.handles.IOHandle, string)
        The files to copy, to their own keys.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        A file to copy that the target cannot hold (see ``Refusals``).
    """
    pairs: List[Pair] = []
    marched = march(source_files, target_files)
    for key, file, other in marched if checksum or size_only else times_asked_ahead(marched):
        if file is None:
            if delete:
                result.deleted.append(key)
        elif other is not None and same(file, other, checksum, size_only):
            result.unchanged += 1
        else:
            refusals.check(key, key)
            result.copied.append(key)
            pairs.append((key, file, key))
    return pairs


TIMES_AHEAD = 32
"""Files whose modification times a sync asks for at once, ahead of the
comparisons that need them (an S3 object's kept time takes a HEAD request
each: one after the other, they made a sync of 100,000 equal files take
2.5 minutes)."""


def times_asked_ahead(marched: Iterator[Marched]) -> Iterator[Marched]:
    """Give the marched files in order, the modification times of those of
    equal sizes on both sides asked for ahead, up to TIMES_AHEAD files at
    once, where asking takes a request (``IOHandle.ask_modified``).

    Parameters
    ----------
    marched: iterator of (string, IOHandle or None, IOHandle or None)
        The files of both sides, by key (``march``).

    Returns
    -------
    iterator of (string, IOHandle or None, IOHandle or None)
    """
    held: Deque[Tuple[Marched, List[concurrent.futures.Future[None]]]] = deque()
    asked = 0
    try:
        for item in chain(marched, [None]):  # None: the end, everything held is given
            if item is not None:
                _, file, other = item
                asking: List[concurrent.futures.Future[None]] = []
                if file is not None and other is not None and file.size() == other.size():
                    asking = [f for f in (modified_asked(file), modified_asked(other)) if f]
                held.append((item, asking))
                asked += len(asking)
            while held and (item is None or asked >= TIMES_AHEAD or not held[0][1]
                            or len(held) > TIMES_AHEAD):
                first, futures = held.popleft()
                concurrent.futures.wait(futures)  # a failed request: modified() asks again
                asked -= len(futures)
                yield first
    finally:
        for _, futures in held:
            for future in futures:
                future.cancel()


def modified_asked(file: IOHandle) -> Optional[concurrent.futures.Future[None]]:
    """Start asking for a handle's modification time (handles of this
    library only).
    """
    return file.ask_modified() if isinstance(file, IOHandle) else None


def same(file: IOHandle, other: IOHandle, checksum: bool, size_only: bool) -> bool:
    """Whether a target file holds what its source holds (see the module).

    Parameters
    ----------
    file: flowserv_fsspec.handles.IOHandle
        The source file.
    other: flowserv_fsspec.handles.IOHandle
        The target file of the same key.
    checksum: bool
        Compare contents, not times.
    size_only: bool
        Compare sizes only.

    Returns
    -------
    bool
    """
    if file.size() != other.size():
        return False
    if checksum:
        return sha256(file) == sha256(other)
    if size_only:
        return True
    mine, theirs = modified_of(file), modified_of(other)
    if mine is None or theirs is None:
        return True
    if theirs.kept:  # a copy of this source has its time: an upload time to the second
        window = MODIFY_WINDOW if mine.kept else WRITTEN_WINDOW
        return abs(mine.seconds - theirs.seconds) <= window
    return mine.seconds <= theirs.seconds + WRITTEN_WINDOW


def sha256(file: IOHandle) -> str:
    """Hash a file's contents, read in streamed chunks.

    Parameters
    ----------
    file: flowserv_fsspec.handles.IOHandle
        The file.

    Returns
    -------
    string
    """
    digest = hashlib.sha256()
    with read_stream(file) as f:
        for chunk in iter(lambda: f.read(COPY_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()
