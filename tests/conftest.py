"""Shared fixtures: a moto S3 server on 127.0.0.1 for the whole session, and
one fresh, empty volume per test on every backend of the contract suite."""

import uuid
from typing import Callable, Iterator

import fsspec
import pytest
from s3fs import S3FileSystem

from flowserv_fsspec import FsspecVolume, LocalVolume, S3Volume
from flowserv_fsspec.moto_server import MotoS3Server


BACKENDS = ['memory', 'local', 's3']


@pytest.fixture(scope='session')
def s3_server() -> Iterator[MotoS3Server]:
    """moto's S3 server over HTTP on 127.0.0.1, with the standard AWS
    environment pointing at it (as a worker would be configured)."""
    env = {
        'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing',
        'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_EC2_METADATA_DISABLED': 'true',
    }
    with MotoS3Server() as server, pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setenv('AWS_ENDPOINT_URL', server.endpoint_url)
        mp.delenv('AWS_PROFILE', raising=False)
        yield server


@pytest.fixture
def bucket(s3_server: MotoS3Server) -> str:
    """A new, empty bucket on the moto server."""
    return s3_server.create_buckets('test-' + uuid.uuid4().hex[:12])[0]


@pytest.fixture
def s3_client(s3_server: MotoS3Server) -> S3FileSystem:
    """An independent S3 client (its own listing cache) playing another worker."""
    return S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the backend under test."""
    return request.param


@pytest.fixture
def make_volume(request: pytest.FixtureRequest, tmp_path) -> Callable[[str], FsspecVolume]:
    """Factory of fresh, empty volumes, each rooted below a folder/prefix:
    ``make_volume(backend)``."""
    def make(backend: str) -> FsspecVolume:
        name = uuid.uuid4().hex
        if backend == 'memory':
            return FsspecVolume(fsspec.filesystem('memory'), root=f'/{name}/vol')
        if backend == 'local':
            return LocalVolume(basedir=str(tmp_path / name / 'vol'))
        return S3Volume(request.getfixturevalue('bucket'), prefix=f'{name}/vol')
    return make


@pytest.fixture
def volume(backend: str, make_volume: Callable[[str], FsspecVolume]) -> FsspecVolume:
    """A fresh, empty volume on the backend under test."""
    return make_volume(backend)


@pytest.fixture
def outside(volume: FsspecVolume, backend: str, request: pytest.FixtureRequest) -> Callable:
    """Write bytes at a path of the volume's filesystem, next to or below the
    volume root, through another client (not the volume): ``outside(rel, data)``
    with ``rel`` relative to the parent of the root."""
    parent = volume.fs._parent(volume.root)
    if backend == 's3':
        fs = request.getfixturevalue('s3_client')
    elif backend == 'local':
        fs = fsspec.filesystem('file', auto_mkdir=True)
    else:
        fs = volume.fs

    def write(rel: str, data: bytes) -> None:
        fs.pipe_file(f'{parent}/{rel}', data)

    write.fs = fs
    write.parent = parent
    return write
