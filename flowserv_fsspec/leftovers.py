"""What a write that never finished leaves behind (:class:`Leftover`): found
by each volume's ``find_leftovers`` and removed by
:func:`flowserv_fsspec.cleanup.cleanup`.
"""

from dataclasses import dataclass, field
from typing import Callable


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
