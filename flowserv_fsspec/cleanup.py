"""Leftovers of writes that never finished, and their removal.

A write that is killed (``kill -9``, a lost connection) before it could
clean up leaves what it had started: on filesystems with folders a hidden
temporary file (``.name.<12 hex>.part``, never listed by ``walk``), on S3 an
open multipart upload (billed storage, invisible to listings). Neither is
removed automatically. :func:`cleanup` finds those older than an age and
removes them. Google Cloud Storage and Azure discard unfinished uploads by
themselves (resumable sessions and uncommitted blocks expire after a week),
so their volumes report none.
"""

from typing import List

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.leftovers import DEFAULT_AGE, Leftover


def cleanup(
    volume: StorageVolume, older_than: float = DEFAULT_AGE, dry_run: bool = False
) -> List[Leftover]:
    """Remove the leftovers of unfinished writes older than an age.

    Parameters
    ----------
    volume: flowserv_fsspec.base.StorageVolume
        The volume to clean; volumes that cannot tell report nothing.
    older_than: float, default=DEFAULT_AGE
        Age in seconds; younger leftovers may belong to writes under way.
    dry_run: bool, default=False
        Only report what would be removed.

    Returns
    -------
    list of flowserv_fsspec.leftovers.Leftover
        What was removed (or, in a dry run, would be), sorted by key.
    """
    found = sorted(volume.find_leftovers(older_than), key=lambda x: x.key)
    if not dry_run:
        for leftover in found:
            leftover.discard()
    return found
