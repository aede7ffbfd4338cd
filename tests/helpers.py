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


class Failing(io.RawIOBase):
    """A source that gives some bytes, then fails like a broken connection."""

    def __init__(self, good: int):
        self.left = good

    def readable(self):
        return True

    def readinto(self, buf):
        if self.left <= 0:
            raise ConnectionResetError('source failed mid-stream')
        n = min(len(buf), self.left, 64 * 1024)
        buf[:n] = b'\x07' * n
        self.left -= n
        return n


class FailingHandle(IOBuffer):
    def __init__(self, good: int):
        super().__init__(io.BytesIO())
        self.good = good

    def open(self):
        return Failing(self.good)
