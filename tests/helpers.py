"""Helpers shared by the tests."""

import io
from typing import Dict

from flowserv_fsspec import FsspecVolume, IOBuffer


def files_of(volume: FsspecVolume) -> Dict[str, bytes]:
    """All files of a volume with their contents."""
    result = dict()
    for key, handle in volume.walk(None):
        with handle.open() as f:
            result[key] = f.read()
    return result


def put(volume: FsspecVolume, key: str, data: bytes) -> None:
    """Store bytes at a key through the volume."""
    volume.store(IOBuffer(io.BytesIO(data)), key)

