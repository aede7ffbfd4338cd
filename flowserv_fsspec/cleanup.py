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

from dataclasses import dataclass, field
from typing import Callable, List

from flowserv_fsspec.base import StorageVolume


DEFAULT_AGE = 24 * 3600.0
"""Seconds after which an unfinished write counts as abandoned (a write still
under way elsewhere is younger)."""


@dataclass
class Leftover:
    """An unfinished write found in a volume."""

    kind: str
    """``'part file'`` or ``'multipart upload'``."""
    key: str
    """Its key (path relative to the volume root)."""
    age: float
    """Seconds since it was written or started."""
    discard: Callable[[], None] = field(repr=False, compare=False)
    """Remove it."""


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
    list of flowserv_fsspec.cleanup.Leftover
        What was removed (or, in a dry run, would be), sorted by key.
    """
    find = getattr(volume, 'find_leftovers', None)
    found: List[Leftover] = sorted(find(older_than) if find else [], key=lambda x: x.key)
    if not dry_run:
        for leftover in found:
            leftover.discard()
    return found
