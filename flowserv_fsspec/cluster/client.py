"""The client's side of a run on a cluster: connecting to it, refusing
volumes that its workers cannot list or reach, and naming a run's tasks.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Iterator, List

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.cluster.cut import PARTS_PER_WORKER
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    MissingExtraError,
    UnsafeOperationError,
)


if TYPE_CHECKING:
    from distributed import Client

    from flowserv_fsspec.volume import FsspecVolume


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


def listed_by_client(volume: StorageVolume, role: str) -> FsspecVolume:
    """Refuse a volume whose first levels the client cannot list (one not of
    this library's fsspec volumes).

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    from flowserv_fsspec.volume import FsspecVolume
    if not isinstance(volume, FsspecVolume):
        raise InvalidConfigurationError(
            role, volume.describe(), 'a run on a cluster lists an fsspec volume (FsspecVolume)'
        )
    return volume


def refuse_unreachable(what: str, *volumes: StorageVolume) -> None:
    """Refuse volumes that workers cannot rebuild from their documents
    (``StorageVolume.shared`` is False: memory).

    Raises
    ------
    flowserv_fsspec.errors.UnsafeOperationError
    """
    for volume in volumes:
        if not volume.shared:
            raise UnsafeOperationError(what, f'{volume.describe()} cannot be reached by workers')


def parts_wanted(client: Client) -> int:
    """Get the number of parts to cut a run into: PARTS_PER_WORKER a worker."""
    return max(1, len(client.scheduler_info().get('workers', {}))) * PARTS_PER_WORKER


def task_keys(kind: str, count: int) -> List[str]:
    """Name the tasks of a run (names that show no argument of a task)."""
    run = uuid.uuid4().hex[:12]
    return [f'flowserv-fsspec-{kind}-{run}-{i}' for i in range(count)]
