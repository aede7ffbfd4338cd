"""Copies and syncs on a Dask cluster (``distributed``), as DistCp copies on
Hadoop: the key space is cut into parts by the names near its top
(:mod:`~flowserv_fsspec.cluster.cut`), and each part is copied or synced by a
task on a worker with the single-machine engine
(:mod:`~flowserv_fsspec.cluster.copies`, :mod:`~flowserv_fsspec.cluster.syncs`).

The client lists the first levels only (one level at a time, down to where
there are enough parts for the workers), never the files; each task lists
its own part and checks its plan before its first write (two files of one
part can only clash within it, as clashing keys share their first name). The
checks that need the whole run on the client before any write: overlap, a
missing or empty source, a sync's ``max_delete`` budget.

Volumes reach the workers as their documents and their storage options
without credentials (:mod:`~flowserv_fsspec.cluster.travel`): each worker
takes credentials from its own environment, as a flowserv worker does,
unless the caller sends them explicitly. A task that fails whole is retried
(``retries``); a worker that dies is replaced by the scheduler, which runs
its tasks again elsewhere. Writes are atomic, so a task run twice leaves
each file whole. What failed comes back as one
:class:`~flowserv_fsspec.errors.TransferError` naming the files done and
pending, as on one machine; progress comes back as bytes and files across
all workers (:mod:`~flowserv_fsspec.cluster.tally`).

Requires the extra ``dask`` (``pip install 'flowserv-fsspec[dask]'``).
"""

from flowserv_fsspec.cluster.client import client_of
from flowserv_fsspec.cluster.copies import copy_on_cluster
from flowserv_fsspec.cluster.syncs import sync_on_cluster


__all__ = ['client_of', 'copy_on_cluster', 'sync_on_cluster']
