"""Copies on a cluster: the parts of a folder copied by tasks on the
workers with the single-machine engine, and their outcomes joined on the
client into the result (or the ``TransferError``) of a copy on one machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Mapping, NamedTuple, Optional, Tuple

from fsspec.callbacks import Callback

from flowserv_fsspec.base import StorageVolume, copy_planned, ends
from flowserv_fsspec.cluster.client import (
    listed_by_client,
    parts_wanted,
    refuse_unreachable,
    task_keys,
)
from flowserv_fsspec.cluster.cut import Part, cut
from flowserv_fsspec.cluster.tally import Reporter, tallied
from flowserv_fsspec.cluster.travel import Travelling, arrived, travelling
from flowserv_fsspec.errors import TransferError
from flowserv_fsspec.keys import normalize_key
from flowserv_fsspec.plan import destinations, planned, refuse_nested
from flowserv_fsspec.progress import KeyLog


if TYPE_CHECKING:
    from distributed import Client, Future


class Outcome(NamedTuple):
    """What a task did: the destination keys it wrote and those it did not."""

    done: List[str]
    """Destination keys written."""
    pending: List[str]
    """Destination keys not written."""
    error: Optional[BaseException]
    """The first failure (None: every key was written)."""


def copy_on_cluster(
    src: Optional[str], source: StorageVolume, dst: Optional[str], target: StorageVolume,
    client: Client, retries: int = 2, source_options: Optional[Mapping[str, Any]] = None,
    target_options: Optional[Mapping[str, Any]] = None, send_secrets: bool = False,
    callback: Optional[Callback] = None, counted: Optional[Callable[[int], None]] = None
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
        Times a task that failed whole is run again.
    source_options: dict, default=None
        Storage options with which the workers rebuild the source
        (``timeout``, ``endpoint_url``, ...; see :mod:`flowserv_fsspec.cluster.travel`).
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
    flowserv_fsspec.progress.KeyLog
        The destination keys copied (part by part, each part in key order).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
        The copy was refused (overlap, a volume that workers cannot reach);
        nothing was written.
    flowserv_fsspec.errors.InvalidConfigurationError
        A source that is not an fsspec volume of this library, or options
        that hold credentials without ``send_secrets``.
    flowserv_fsspec.errors.VolumeNotFoundError
        The source folder does not exist.
    flowserv_fsspec.errors.TransferError
        Parts failed: every other part was copied; ``pending`` names what
        was not.
    """
    src, dst = normalize_key(src, allow_empty=True), normalize_key(dst, allow_empty=True)
    lister = listed_by_client(source, 'source')
    refuse_unreachable(
        f'copy from {source.describe()} to {target.describe()} on a cluster', source, target
    )
    refuse_nested([src], dst, ends(source, target))
    mine = travelling(source, source_options, send_secrets)
    theirs = travelling(target, target_options, send_secrets)
    parts = cut([lister], src, dst, parts_wanted(client))  # none: an empty folder
    with tallied(client, callback, counted) as topic:
        futures = client.map(
            copy_part, parts, source=mine, target=theirs, topic=topic, retries=retries,
            key=task_keys('copy', len(parts)), pure=False,
        )
        return outcomes_of(parts, futures, source.describe(), target.describe())


def copy_part(
    part: Part, source: Travelling, target: Travelling, topic: Optional[str] = None
) -> Outcome:
    """Copy one part on a worker (the task): rebuild both volumes and copy
    each source key of the part to its destination key, every one even
    after another failed. Keys that failed come back as an answer, not
    raised: the engine has retried their requests already, and a refusal
    would only be refused again.

    Parameters
    ----------
    part: list of (string, string)
        Source keys and their destination keys.
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
    mine, theirs = arrived(source), arrived(target)
    both = ends(mine, theirs)
    done: List[str] = []
    pending: List[str] = []
    first: Optional[BaseException] = None
    try:
        for key, dstkey in part:
            reporter = Reporter(topic)
            try:
                done.extend(copy_planned(
                    planned([key], dstkey, both), mine, theirs, reporter, reporter.file_done
                ))
            except TransferError as error:
                done.extend(error.done)
                pending.extend(error.pending)
                first = first or error
            except Exception as error:  # refused, or not listed: the files it would copy
                pending.extend(unit_keys(mine, key, dstkey))
                first = first or error
            finally:
                reporter.send(now=True)
    finally:
        mine.close()
        theirs.close()
    return Outcome(done, pending, first)


def unit_keys(source: StorageVolume, key: str, dstkey: str) -> List[str]:
    """Give the destination keys of a key's files (the key's own where
    they cannot be listed).
    """
    try:
        return [to for _, _, to in destinations(key, source.iter_walk(key), dstkey)]
    except Exception:  # what failed the copy may fail this listing too
        return [dstkey]


def outcomes_of(
    parts: List[Part], futures: List[Future[Outcome]], source: str, target: str
) -> KeyLog:
    """Wait for the outcomes of a run's tasks: the keys they wrote, or one
    error that names every key written and not written (a part whose task
    failed without an answer, one that lost its workers, is pending by the
    destination keys of its names).

    Raises
    ------
    flowserv_fsspec.errors.TransferError
    """
    done = KeyLog()
    pending: List[str] = []
    failures: List[Tuple[str, BaseException]] = []
    for part, future in zip(parts, futures):
        try:
            outcome = future.result()
        except Exception as lost:  # the task itself failed (its retries too)
            outcome = Outcome([], [dstkey for _, dstkey in part], lost)
        for key in outcome.done:
            done.append(key)
        pending.extend(outcome.pending)
        if outcome.error is not None:
            failures.append((outcome.pending[0] if outcome.pending else part[0][1], outcome.error))
    if not failures:
        return done
    key, first = failures[0]
    raise TransferError(getattr(first, 'key', None) or key, source, target, list(done), pending,
                        first)
