"""Small helpers of the contract suite: write bytes through a volume, read a
whole volume back, and a source that breaks part way.
"""

import io
from typing import IO, Dict

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.handles import IOBuffer


def files_of(volume: StorageVolume) -> Dict[str, bytes]:
    """Read every file of a volume: key -> contents.

    Parameters
    ----------
    volume: flowserv_fsspec.base.StorageVolume
        The volume.

    Returns
    -------
    dict
    """
    result = dict()
    for key, handle in volume.walk(None):
        with handle.open() as f:
            result[key] = f.read()
    return result


def put(volume: StorageVolume, key: str, data: bytes) -> None:
    """Store bytes at a key through the volume.

    Parameters
    ----------
    volume: flowserv_fsspec.base.StorageVolume
        The volume.
    key: string
        Destination key.
    data: bytes
        Contents.
    """
    volume.store(IOBuffer(io.BytesIO(data)), key)


class Failing(io.RawIOBase):
    """A source that gives some bytes, then fails like a broken connection."""

    def __init__(self, good: int):
        """Initialize with the number of bytes given before the failure."""
        self.left = good

    def readable(self) -> bool:
        """Say that the source can be read."""
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        """Give up to 64 KiB of filler, or fail once ``good`` bytes are out."""
        if self.left <= 0:
            raise ConnectionResetError('source failed mid-stream')
        n = min(len(buf), self.left, 64 * 1024)
        buf[:n] = b'\x07' * n
        self.left -= n
        return n


class FailingHandle(IOBuffer):
    """A handle whose stream breaks after ``good`` bytes."""

    def __init__(self, good: int):
        """Initialize with the number of bytes given before the failure."""
        super().__init__(io.BytesIO())
        self.good = good

    def stream(self) -> IO[bytes]:
        """Get the stream that breaks."""
        return Failing(self.good)  # type: ignore[return-value]
