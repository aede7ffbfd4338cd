"""Cutting a tree into the parts of a run on a cluster, by the names of its
first levels: the client lists one level at a time (the names directly
below a folder, on each side of a sync), never the files.
"""

from __future__ import annotations

import contextlib
from itertools import chain
from typing import TYPE_CHECKING, List, Sequence, Set, Tuple

from flowserv_fsspec.errors import VolumeNotFoundError
from flowserv_fsspec.keys import join_key, key_cutter
from flowserv_fsspec.translate import translate_errors


if TYPE_CHECKING:
    from flowserv_fsspec.volume import FsspecVolume


PARTS_PER_WORKER = 4
"""Parts a run aims to give each worker (more parts: a slow part holds up
less of the run; fewer: less work per task)."""

LEVELS = 3
"""Levels below the source that the client lists, at most, to find parts."""

Part = List[Tuple[str, str]]
"""The source keys of a task (names: each a file or a folder, or both),
each with its destination key."""


def cut(volumes: Sequence[FsspecVolume], src: str, dst: str, wanted: int) -> List[Part]:
    """Cut the folder ``src`` into at most ``wanted`` parts of consecutive
    names: the names directly below it, or, where those are fewer than
    ``wanted``, the names below its folders (down to LEVELS levels; a name
    that is a file anywhere stays whole).

    Parameters
    ----------
    volumes: list of flowserv_fsspec.volume.FsspecVolume
        The source, then the volumes whose names count too (a sync's target,
        where ``src`` and ``dst`` are the roots).
    src: string
        Source folder ('': the root).
    dst: string
        Its destination key ('': the root).
    wanted: int
        Number of parts wanted.

    Returns
    -------
    list of list of (string, string)

    Raises
    ------
    flowserv_fsspec.errors.VolumeNotFoundError
        The source folder does not exist.
    """
    if src and volumes[0].key_type(src) == 'file':  # a file (maybe a folder too): one part
        return [[(src, dst)]]
    names = level(volumes, src, top=True)
    for _ in range(LEVELS - 1):
        if len(names) >= wanted:
            break
        files = {key for key, kind in names if kind == 'file'}
        deeper = set(chain.from_iterable(
            level(volumes, key) if kind == 'folder' and key not in files else [(key, kind)]
            for key, kind in names
        ))
        if len(deeper) <= len(names):
            break
        names = deeper
    pairs = [(key, join_key(dst, key[len(src):])) for key in sorted({key for key, _ in names})]
    size = max(1, -(-len(pairs) // wanted))
    return [pairs[i:i + size] for i in range(0, len(pairs), size)]


def level(volumes: Sequence[FsspecVolume], key: str, top: bool = False) -> Set[Tuple[str, str]]:
    """List the keys directly below a folder on each volume, each with its
    kind (``'file'`` or ``'folder'``; on object stores a key may come twice,
    as both), without temporary files of writes; a volume that lacks the
    folder has none (but the source at the top: ``VolumeNotFoundError``).
    """
    names: Set[Tuple[str, str]] = set()
    for i, volume in enumerate(volumes):
        with contextlib.suppress(*(() if top and i == 0 else (VolumeNotFoundError,))):
            names.update(names_below(volume, key))
    return names


def names_below(volume: FsspecVolume, key: str) -> List[Tuple[str, str]]:
    """List the keys directly below a folder of a volume in one call (see ``level``)."""
    path, strip = volume.path(key), volume.fs._strip_protocol
    cut_key = key_cutter(volume.root)
    with translate_errors(key, volume.describe(), missing=VolumeNotFoundError):
        found = volume.fs.ls(path, detail=True)
    volume.fs.invalidate_cache(path)
    names: List[Tuple[str, str]] = []
    for info in found:
        name = strip(info['name']).rstrip('/')
        below = cut_key(name)
        if below and below != key and not volume.writes.is_temporary(name):
            names.append((below, 'folder' if info.get('type') == 'directory' else 'file'))
    return names
