"""Syncs on a cluster, in three rounds of tasks: each part is compared on
both sides (its plan stays on the worker that made it; the client gathers
its counts only), the whole is checked on the client (an empty source,
the ``max_delete`` budget), then the parts copy their files and, after
every copy succeeded, delete what the source lacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Mapping, NamedTuple, Optional, Tuple, cast

from fsspec.callbacks import Callback

from flowserv_fsspec.base import StorageVolume, copy_planned, ends
from flowserv_fsspec.cluster.client import (
    listed_by_client,
    parts_wanted,
    refuse_unreachable,
    task_keys,
)
from flowserv_fsspec.cluster.copies import Outcome, outcomes_of
from flowserv_fsspec.cluster.cut import Part, cut
from flowserv_fsspec.cluster.tally import Reporter, tallied
from flowserv_fsspec.cluster.travel import Travelling, arrived, travelling
from flowserv_fsspec.errors import TransferError, UnsafeOperationError
from flowserv_fsspec.sync import SyncResult, compared, refuse_deletions, refuse_no_folder


if TYPE_CHECKING:
    from distributed import Client

    from flowserv_fsspec.volume import FsspecVolume


class PartPlan(NamedTuple):
    """What a sync does in one part: what differs, never what is the same."""

    copy: List[Tuple[str, int]]
    """Keys to copy, with their source sizes."""
    delete: List[str]
    """Target keys to delete."""
    unchanged: int
    """Number of files the same on both sides."""


def sync_on_cluster(
    source: StorageVolume, target: StorageVolume, client: Client, delete: bool = False,
    checksum: bool = False, dry_run: bool = False, max_delete: Optional[int] = None,
    allow_empty_source: bool = False, size_only: bool = False, retries: int = 2,
    source_options: Optional[Mapping[str, Any]] = None,
    target_options: Optional[Mapping[str, Any]] = None, send_secrets: bool = False,
    callback: Optional[Callback] = None, counted: Optional[Callable[[int], None]] = None
) -> SyncResult:
    """Make the target hold what the source holds, as
    :func:`flowserv_fsspec.sync_files` does, in tasks on a Dask cluster.

    Everything that could lose data is refused before the first write, as
    on one machine: a missing source or one that is a file, overlap,
    ``delete`` with an empty source, and more deletions than ``max_delete``
    across all parts.

    Parameters
    ----------
    source: flowserv_fsspec.base.StorageVolume
        Volume whose files are copied.
    target: flowserv_fsspec.base.StorageVolume
        Volume that is made to match the source.
    client: distributed.Client
        Client of the cluster.
    delete: bool, default=False
        Delete target files that are not in the source (after every copy).
    checksum: bool, default=False
        Compare the contents of files whose sizes match.
    dry_run: bool, default=False
        Only say what would be copied and deleted.
    max_delete: int, default=None
        Refuse the sync when it would delete more files than this.
    allow_empty_source: bool, default=False
        With ``delete``, let an existing but empty source empty the target.
    size_only: bool, default=False
        Compare sizes only.
    retries: int, default=2
        Times a task that failed whole is run again.
    source_options: dict, default=None
        Storage options with which the workers rebuild the source
        (see :mod:`flowserv_fsspec.cluster.travel`).
    target_options: dict, default=None
        Storage options with which the workers rebuild the target.
    send_secrets: bool, default=False
        Send the options that hold credentials too (refused by default).
    callback: fsspec.callbacks.Callback, default=None
        Told the bytes planned and copied, across all workers.
    counted: callable, default=None
        Told the number of files copied so far, across all workers.

    Returns
    -------
    flowserv_fsspec.sync.SyncResult

    Raises
    ------
    flowserv_fsspec.errors.VolumeNotFoundError
        The source does not exist.
    flowserv_fsspec.errors.UnsafeOperationError
        The sync was refused; nothing was written.
    flowserv_fsspec.errors.InvalidConfigurationError
        A volume that is not an fsspec volume of this library, or options
        that hold credentials without ``send_secrets``.
    flowserv_fsspec.errors.TransferError
        Files not copied (nothing was deleted then).
    """
    what = f'sync from {source.describe()} to {target.describe()} on a cluster'
    volumes = [listed_by_client(source, 'source'), listed_by_client(target, 'target')]
    refuse_unreachable(what, source, target)
    if source.overlaps(target):
        raise UnsafeOperationError(what, 'source and target overlap')
    refuse_no_folder(what, source)
    mine = travelling(source, source_options, send_secrets)
    theirs = travelling(target, target_options, send_secrets)
    parts = cut(volumes, '', '', parts_wanted(client))
    plans = client.map(
        plan_part, parts, source=mine, target=theirs, delete=delete, checksum=checksum,
        size_only=size_only, retries=retries, key=task_keys('sync-plan', len(parts)), pure=False
    )
    counts = [future.result() for future in client.map(
        plan_counts, plans, key=task_keys('sync-count', len(parts)))]
    deletes = [deleted for _, deleted, _ in counts]
    result = SyncResult(unchanged=sum(unchanged for _, _, unchanged in counts))
    source_files = sum(copies for copies, _, _ in counts) + result.unchanged
    refuse_deletions(what, sum(deletes), not source_files and not allow_empty_source, max_delete)
    if dry_run:
        for plan in (future.result() for future in plans):
            result.copied.extend(key for key, _ in plan.copy)
            result.deleted.extend(plan.delete)
        return result
    with tallied(client, callback, counted) as topic:
        copies = client.map(
            copy_plan, plans, source=mine, target=theirs, topic=topic, retries=retries,
            key=task_keys('sync-copy', len(parts)), pure=False
        )
        result.copied = list(outcomes_of(parts, copies, source.describe(), target.describe()))
    if sum(deletes):
        for future in client.map(
            delete_plan, plans, deletes, target=theirs, retries=retries,
            key=task_keys('sync-delete', len(parts)), pure=False
        ):
            result.deleted.extend(future.result())
    return result


def plan_part(
    part: Part, source: Travelling, target: Travelling, delete: bool, checksum: bool,
    size_only: bool
) -> PartPlan:
    """Compare one part on both sides (a task): each of its names is listed
    on both volumes and the listings merged (``sync.compared``), its files
    to copy checked as on one machine.

    Parameters
    ----------
    part: list of (string, string)
        The part's names (each to itself).
    source: flowserv_fsspec.cluster.travel.Travelling
        The source volume.
    target: flowserv_fsspec.cluster.travel.Travelling
        The target volume.
    delete: bool
        Plan deletions of target files that the source lacks.
    checksum: bool
        Compare contents.
    size_only: bool
        Compare sizes only.

    Returns
    -------
    flowserv_fsspec.cluster.syncs.PartPlan

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        A file that the target cannot hold.
    """
    mine, theirs = arrived(source), arrived(target)
    copy: List[Tuple[str, int]] = []
    found = SyncResult()  # the keys to delete and the count of unchanged files
    try:
        for name, _ in part:
            pairs = compared(mine.iter_walk(name), theirs.iter_walk(name),
                             ends(mine, theirs).refusals(), found, delete, checksum, size_only)
            copy.extend((key, file.size()) for key, file, _ in pairs)
    finally:
        mine.close()
        theirs.close()
    return PartPlan(copy, found.deleted, found.unchanged)


def plan_counts(plan: PartPlan) -> Tuple[int, int, int]:
    """Count a part's plan (a task): files to copy, to delete and unchanged."""
    return len(plan.copy), len(plan.delete), plan.unchanged


def copy_plan(
    plan: PartPlan, source: Travelling, target: Travelling, topic: Optional[str] = None
) -> Outcome:
    """Copy the files of a part's plan (a task), with the sizes it listed.

    Parameters
    ----------
    plan: flowserv_fsspec.cluster.syncs.PartPlan
        The part's plan.
    source: flowserv_fsspec.cluster.travel.Travelling
        The source volume.
    target: flowserv_fsspec.cluster.travel.Travelling
        The target volume.
    topic: string, default=None
        Topic of the run's progress events (None: nobody watches).

    Returns
    -------
    flowserv_fsspec.cluster.copies.Outcome
    """
    mine, theirs = cast('FsspecVolume', arrived(source)), arrived(target)
    reporter = Reporter(topic)
    pairs = ((key, mine.listed_file(mine.path(key), key, size, None), key)
             for key, size in plan.copy)
    try:
        return Outcome(list(copy_planned(pairs, mine, theirs, reporter, reporter.file_done)),
                       [], None)
    except TransferError as error:
        return Outcome(list(error.done), list(error.pending), error)
    finally:
        reporter.send(now=True)
        mine.close()
        theirs.close()


def delete_plan(plan: PartPlan, counted: int, target: Travelling) -> List[str]:
    """Delete the target files of a part's plan (a task): refused where
    the plan holds more than the client counted (a plan made again, after
    its worker was lost, on a target that changed).

    Parameters
    ----------
    plan: flowserv_fsspec.cluster.syncs.PartPlan
        The part's plan.
    counted: int
        The deletions the client counted in it, within the budget.
    target: flowserv_fsspec.cluster.travel.Travelling
        The target volume.

    Returns
    -------
    list of string
        The keys deleted.

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    theirs = arrived(target)
    try:
        if len(plan.delete) > counted:
            raise UnsafeOperationError(
                f'sync to {theirs.describe()} on a cluster',
                f'a plan made again would delete {len(plan.delete)} files, not {counted}'
            )
        theirs.delete_files(plan.delete)
    finally:
        theirs.close()
    return plan.delete
