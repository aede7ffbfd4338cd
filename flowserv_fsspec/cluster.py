"""Copies on a Dask cluster (``distributed``), as DistCp copies on Hadoop:
the source's key space is cut into parts by the names near its top, and
each part is copied by a task on a worker with the single-machine engine.

The client lists the first levels of the source only (one level at a time,
down to where there are enough parts for the workers), never the files;
each task lists its own part, checks its plan before its first write (the
refusals of :func:`flowserv_fsspec.plan.planned`: two files of one part can
only clash within it, as clashing keys share their first name) and copies
it. A copy whose source and destination overlap is refused by the client
before any task starts.

Volumes reach the workers as their documents (``to_dict()``), without
credentials: each worker rebuilds a volume with :func:`flowserv_fsspec.Volume`
and its own environment (the AWS variables or files, a service account),
as a flowserv worker does. A volume that another process cannot reach from
its document (``StorageVolume.shared`` is False: memory) is refused. A task
that fails is retried (``retries``); a worker that dies is replaced by the
scheduler, which runs its tasks again elsewhere. Writes are atomic, so a
task run twice leaves each file whole. What failed comes back as one
:class:`~flowserv_fsspec.errors.TransferError` naming the files done and
pending, as on one machine.

Requires the extra ``dask`` (``pip install 'flowserv-fsspec[dask]'``).
"""

from __future__ import annotations

import contextlib
import uuid
from itertools import chain
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

from flowserv_fsspec.base import StorageVolume, copy_planned, ends
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    MissingExtraError,
    TransferError,
    UnsafeOperationError,
    VolumeNotFoundError,
)
from flowserv_fsspec.keys import join_key, key_cutter, normalize_key
from flowserv_fsspec.plan import destinations, planned, refuse_nested
from flowserv_fsspec.progress import KeyLog
from flowserv_fsspec.translate import translate_errors


if TYPE_CHECKING:
    from distributed import Client

    from flowserv_fsspec.volume import FsspecVolume


PARTS_PER_WORKER = 4
"""Parts a copy aims to give each worker (more parts: a slow part holds up
less of the copy; fewer: less work per task)."""

LEVELS = 3
"""Levels below the source that the client lists, at most, to find parts."""

Part = List[Tuple[str, str]]
"""The source keys of a task, each with its destination key."""


def copy_on_cluster(
    src: Optional[str], source: StorageVolume, dst: Optional[str], target: StorageVolume,
    client: Client, retries: int = 2
) -> KeyLog:
    """Copy a folder (or the whole volume) as :func:`flowserv_fsspec.copy_files`
    does, in tasks on the workers of a Dask cluster.

    Parameters
    ----------
    src: string
        Source folder ('' or None: the whole source volume).
    source: flowserv_fsspec.base.StorageVolume
        Volume to copy from.
    dst: string
        Destination folder ('' or None: the target's root).
    target: flowserv_fsspec.base.StorageVolume
        Volume to copy to.
    client: distributed.Client
        Client of the cluster.
    retries: int, default=2
        Times a failed task is run again.

    Returns
    -------
    flowserv_fsspec.progress.KeyLog
        The destination keys copied (part by part, each part in key order).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        The copy was refused (overlap, a volume that workers cannot reach);
        nothing was written.
    flowserv_fsspec.errors.InvalidConfigurationError
        A source that is not an fsspec volume of this library.
    flowserv_fsspec.errors.VolumeNotFoundError
        The source folder does not exist.
    flowserv_fsspec.errors.TransferError
        Parts failed: every other part was copied; ``pending`` names what
        was not.
    """
    from flowserv_fsspec.volume import FsspecVolume
    src, dst = normalize_key(src, allow_empty=True), normalize_key(dst, allow_empty=True)
    what = f'copy from {source.describe()} to {target.describe()} on a cluster'
    if not isinstance(source, FsspecVolume):
        raise InvalidConfigurationError(
            'source', source.describe(), 'a copy on a cluster lists an fsspec volume (FsspecVolume)'
        )
    for volume in (source, target):
        if not volume.shared:
            raise UnsafeOperationError(what, f'{volume.describe()} cannot be reached by workers')
    refuse_nested([src], dst, ends(source, target))
    workers = max(1, len(client.scheduler_info().get('workers', {})))
    parts = cut(source, src, dst, workers * PARTS_PER_WORKER)  # none: an empty folder
    run = uuid.uuid4().hex[:12]
    futures = client.map(
        copy_part, parts, source=source.to_dict(), target=target.to_dict(), retries=retries,
        key=[f'flowserv-fsspec-copy-{run}-{i}' for i in range(len(parts))], pure=False,
    )
    done = KeyLog()
    failed: List[Tuple[Part, BaseException]] = []
    for part, future in zip(parts, futures):
        try:
            keys, error = future.result()
        except Exception as lost:  # the task itself failed (its retries too)
            failed.append((part, lost))
            continue
        for key in keys:
            done.append(key)
        if error is not None:
            failed.append((part, error))
    if failed:
        raise joined(failed, done, source.describe(), target.describe())
    return done


@contextlib.contextmanager
def client_of(address: str) -> Iterator[Client]:
    """Connect to a cluster's scheduler, or start a cluster of worker
    processes on this machine (``'local'``), for the time of a block.

    Parameters
    ----------
    address: string
        The scheduler's address (``tcp://host:8786``), or ``'local'``.

    Returns
    -------
    contextmanager of distributed.Client

    Raises
    ------
    flowserv_fsspec.errors.MissingExtraError
        The extra ``dask`` is not installed.
    """
    try:
        import distributed
    except ImportError as ex:
        raise MissingExtraError('dask', (ex.name or 'distributed').split('.')[0], 'dask') from None
    if address == 'local':
        cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
            processes=True, dashboard_address='127.0.0.1:0'
        )
        with cluster, distributed.Client(cluster) as client:  # type: ignore[no-untyped-call]
            yield client
    else:
        with distributed.Client(address) as client:  # type: ignore[no-untyped-call]
            yield client


def cut(source: FsspecVolume, src: str, dst: str, wanted: int) -> List[Part]:
    """Cut the folder ``src`` into at most ``wanted`` parts of consecutive
    names: the names directly below it, or, where those are fewer than
    ``wanted``, the names below its folders (down to LEVELS levels; a name
    that is a file and a folder at once stays whole).
    """
    if src and source.key_type(src) == 'file':  # a file (maybe a folder too): one part
        return [[(src, dst)]]
    names = level(source, src)
    for _ in range(LEVELS - 1):
        if len(names) >= wanted:
            break
        files = {key for key, kind in names if kind == 'file'}
        deeper: List[Tuple[str, str]] = list(chain.from_iterable(
            level(source, key) if kind == 'folder' and key not in files else [(key, kind)]
            for key, kind in names
        ))
        if len(deeper) <= len(names):
            break
        names = deeper
    pairs = [(key, join_key(dst, key[len(src):])) for key in sorted({key for key, _ in names})]
    size = max(1, -(-len(pairs) // wanted))
    return [pairs[i:i + size] for i in range(0, len(pairs), size)]


def level(source: FsspecVolume, key: str) -> List[Tuple[str, str]]:
    """List the keys directly below a folder of a volume in one call, each
    with its kind (``'file'`` or ``'folder'``; on object stores a key may
    come twice, as both), without temporary files of writes.
    """
    path, strip = source.path(key), source.fs._strip_protocol
    cut_key = key_cutter(source.root)
    with translate_errors(key, source.describe(), missing=VolumeNotFoundError):
        found = source.fs.ls(path, detail=True)
    source.fs.invalidate_cache(path)
    names: List[Tuple[str, str]] = []
    for info in found:
        name = strip(info['name']).rstrip('/')
        below = cut_key(name)
        if below and below != key and not source.writes.is_temporary(name):
            names.append((below, 'folder' if info.get('type') == 'directory' else 'file'))
    return names


def copy_part(
    part: Part, source: Dict[str, Any], target: Dict[str, Any]
) -> Tuple[List[str], Optional[TransferError]]:
    """Copy one part on a worker (the task): rebuild both volumes from their
    documents and copy each source key of the part to its destination key,
    every one even after another failed. Keys that failed come back as an
    answer, not raised: the engine has retried their requests already, and
    a refusal would only be refused again.

    Parameters
    ----------
    part: list of (string, string)
        Source keys and their destination keys.
    source: dict
        Document of the source volume.
    target: dict
        Document of the target volume.

    Returns
    -------
    (list of string, flowserv_fsspec.errors.TransferError or None)
        The destination keys copied, and the error of the keys that failed
        (naming the files not copied).
    """
    from flowserv_fsspec.registry import Volume
    mine, theirs = Volume(source), Volume(target)
    both = ends(mine, theirs)
    done: List[str] = []
    failed: List[Tuple[str, BaseException, List[str]]] = []
    try:
        for key, dstkey in part:
            try:
                done.extend(copy_planned(planned([key], dstkey, both), mine, theirs))
            except TransferError as error:
                done.extend(error.done)
                failed.append((error.key, error, error.pending))
            except Exception as error:  # refused, or not listed: the files it would copy
                failed.append((key, error, unit_keys(mine, key, dstkey)))
    finally:
        mine.close()
        theirs.close()
    if not failed:
        return done, None
    pending = [dstkey for _, _, keys in failed for dstkey in keys]
    key, first, _ = failed[0]
    return [], TransferError(key, mine.describe(), theirs.describe(), done, pending, first)


def unit_keys(source: StorageVolume, key: str, dstkey: str) -> List[str]:
    """Give the destination keys of a key's files (the key's own where
    they cannot be listed).
    """
    try:
        return [to for _, _, to in destinations(key, source.iter_walk(key), dstkey)]
    except Exception:  # what failed the copy may fail this listing too
        return [dstkey]


def joined(
    failed: List[Tuple[Part, BaseException]], done: KeyLog, source: str, target: str
) -> TransferError:
    """Join the failures of parts into one error: the keys they did and did
    not copy (a part whose task failed without an answer, one that lost its
    workers, is pending whole).
    """
    pending: List[str] = []
    for part, error in failed:
        if isinstance(error, TransferError):
            for key in error.done:
                done.append(key)
            pending.extend(error.pending)
        else:
            pending.extend(dstkey for _, dstkey in part)
    first = failed[0][1]
    key = getattr(first, 'key', None) or failed[0][0][0][0]
    return TransferError(key, source, target, list(done), pending, first)
