"""Bad input, table-driven: bad URLs, bad documents, missing buckets, missing
files and refused permissions. Each gives its typed error (never a bare
backend exception) with a message that names the thing, and changes nothing.
"""

import io
import os
import tempfile
import traceback

import asyncssh
import pytest

from flowserv_fsspec import (
    AzureVolume,
    GCVolume,
    IOBuffer,
    LocalVolume,
    S3Volume,
    SftpVolume,
    Volume,
    from_url,
)
from flowserv_fsspec.errors import (
    AccessDeniedError,
    InvalidConfigurationError,
    InvalidKeyError,
    UnknownFileError,
    VolumeNotFoundError,
)
from flowserv_fsspec.testing import files_of, put


ICE = InvalidConfigurationError

BAD_URLS = [
    ('', ICE, "''"),
    ('nosuchprotocol://x/y', ICE, 'nosuchprotocol://x/y'),
    ('s3://', ICE, 's3://'),
    ('gs://', ICE, 'gs://'),
    ('az://', ICE, 'az://'),
    ('s3://bucket/../other', InvalidKeyError, "'../other'"),
    ('s3://bucket/a//b', InvalidKeyError, "'a//b'"),
    ('gs://bucket/a\\b', InvalidKeyError, 'a\\\\b'),
    ('sftp://', ICE, 'sftp://'),
    ('webdav://', ICE, 'webdav://'),
    ('file://', ICE, 'file://'),
    (42, ICE, '42'),
]


@pytest.mark.parametrize('url,error,named', BAD_URLS, ids=[str(u) for u, _, _ in BAD_URLS])
def test_bad_url(url, error, named):
    with pytest.raises(error) as info:
        from_url(url)
    assert named in str(info.value)


def arg(key, value):
    return {'key': key, 'value': value}


BAD_DOCUMENTS = [
    ('not a dict', "'not a dict'"),
    (None, 'None'),
    ([{'type': 's3'}], "[{'type': 's3'}]"),
    ({'type': 'nope', 'id': 'x', 'args': []}, "'nope'"),
    ({'type': 3, 'id': 'x', 'args': []}, '3'),
    ({'type': 's3', 'id': 'x', 'args': []}, "'bucket'"),
    ({'type': 'fs', 'id': 'x'}, "'basedir'"),
    ({'type': 's3', 'id': 'x', 'args': {'bucket': 'b'}}, 'args'),
    ({'type': 's3', 'id': 'x', 'args': [{'value': 'b'}]}, 'args'),
    ({'type': 's3', 'id': 'x', 'args': [arg('bucket', 3)]}, "'bucket'"),
    ({'type': 's3', 'id': 'x', 'args': [arg('bucket', 'b'), arg('prefix', ['p'])]}, "'prefix'"),
    ({'type': 'gc', 'id': 'x', 'args': [arg('bucket', None)]}, "'bucket'"),
    ({'type': 'az', 'id': 'x', 'args': [arg('container', {'c': 1})]}, "'container'"),
    ({'type': 'fs', 'id': 'x', 'args': [arg('basedir', 7)]}, "'basedir'"),
    ({'type': 'sftp', 'id': 'x', 'args': [arg('basedir', '/r'), arg('hostname', 'h'),
                                          arg('port', '22x')]}, "'port'"),
    ({'type': 'sftp', 'id': 'x', 'args': [arg('basedir', '/r'), arg('hostname', 'h'),
                                          arg('port', True)]}, "'port'"),
    ({'type': 'sftp', 'id': 'x', 'args': [arg('basedir', '/r')]}, "'hostname'"),
    ({'type': 'webdav', 'id': 'x', 'args': [arg('base_url', 'http://h'), arg('basedir', 1)]},
     "'basedir'"),
    ({'type': 'fsspec', 'id': 'x', 'args': [arg('url', 'bogus://q')]}, "'bogus://q'"),
    ({'type': 'fsspec', 'id': 'x', 'args': [arg('url', 5)]}, "'url'"),
]


@pytest.mark.parametrize('doc,named', BAD_DOCUMENTS, ids=[str(d)[:40] for d, _ in BAD_DOCUMENTS])
def test_bad_document(doc, named):
    with pytest.raises(InvalidConfigurationError) as info:
        Volume(doc)
    assert named in str(info.value)


def missing_bucket_volume(backend, request):
    if backend == 's3':
        request.getfixturevalue('s3_server')
        return S3Volume('no-such-bucket-s3', prefix='p')
    if backend == 'gcs':
        request.getfixturevalue('gcs_server')
        return GCVolume('no-such-bucket-gcs', prefix='p')
    request.getfixturevalue('azurite')
    return AzureVolume('no-such-container', prefix='p')


MISSING_BUCKET_OPS = {
    'walk': lambda v: v.walk(None),
    'store': lambda v: put(v, 'f.txt', b'1'),
    'load': lambda v: v.load('f.txt'),
    'query': lambda v: v.query('f'),
}


@pytest.mark.parametrize('op', sorted(MISSING_BUCKET_OPS))
@pytest.mark.parametrize('backend', ['s3', 'gcs', 'azure'])
def test_missing_bucket_fails_and_is_never_created(backend, op, request):
    """Every operation says that the bucket is missing (a read too: not an
    'unknown file' that sends a deployer looking for the key)."""
    volume = missing_bucket_volume(backend, request)
    with pytest.raises(VolumeNotFoundError) as info:
        MISSING_BUCKET_OPS[op](volume)
    assert 'no-such-' in str(info.value)
    volume.mkdir('some/dir')
    assert not volume.fs.exists(volume.bucket)


MISSING_FILE_OPS = {
    'load': lambda v: v.load('missing/file.txt'),
    'open after delete': lambda v: reopen_deleted(v),
    'size after delete': lambda v: resize_deleted(v),
}


def reopen_deleted(volume):
    handle = volume.load('there.txt')
    volume.delete('there.txt')
    handle.open().read()


def resize_deleted(volume):
    [(_, handle)] = volume.walk('there.txt')
    handle._size = None  # a handle whose size was not listed
    volume.delete('there.txt')
    handle.size()


@pytest.mark.parametrize('op', sorted(MISSING_FILE_OPS))
def test_missing_file(volume, op):
    put(volume, 'there.txt', b'1')
    with pytest.raises(UnknownFileError) as info:
        MISSING_FILE_OPS[op](volume)
    assert ('missing/file.txt' if op == 'load' else 'there.txt') in str(info.value)


# -- Permissions ---------------------------------------------------------------

def unprivileged(action):
    """Run an action as a user without rights to the test's files: in a
    forked child that drops root (root ignores file modes). Returns the
    error's type name and message, or None."""
    def run():
        try:
            action()
        except Exception as ex:
            return f'{type(ex).__name__}|{ex}'
        return None
    if os.geteuid() != 0:
        return run()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, (run() or 'None|').encode())
        except BaseException:
            os.write(write, traceback.format_exc().encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = pipe.read()
    os.waitpid(pid, 0)
    return None if result == 'None|' else result


@pytest.fixture
def read_only_folder():
    """A folder with a file, that others may read but not change."""
    base = tempfile.mkdtemp()
    os.chmod(base, 0o755)
    os.makedirs(os.path.join(base, 'ro'))
    with open(os.path.join(base, 'ro', 'kept.txt'), 'wb') as f:
        f.write(b'kept')
    os.chmod(os.path.join(base, 'ro'), 0o555)
    yield base
    os.chmod(os.path.join(base, 'ro'), 0o755)
    LocalVolume(base).erase()


LOCAL_DENIED = {
    'store into read-only folder': lambda v: put(v, 'ro/new.txt', b'x'),
    'overwrite in read-only folder': lambda v: put(v, 'ro/kept.txt', b'x'),
    'delete in read-only folder': lambda v: v.delete('ro/kept.txt'),
    'open unreadable file': lambda v: v.load('ro/kept.txt').open(),
}


@pytest.mark.parametrize('op', sorted(LOCAL_DENIED))
def test_local_permission_denied(read_only_folder, op):
    volume = LocalVolume(read_only_folder)
    if op == 'open unreadable file':
        os.chmod(os.path.join(read_only_folder, 'ro', 'kept.txt'), 0)
    error = unprivileged(lambda: LOCAL_DENIED[op](volume))
    assert error is not None and error.startswith('AccessDeniedError|'), error
    assert 'ro/' in error
    os.chmod(os.path.join(read_only_folder, 'ro', 'kept.txt'), 0o644)
    assert files_of(volume) == {'ro/kept.txt': b'kept'}


def test_s3_access_denied_names_the_key(s3_server, bucket):
    volume = S3Volume(bucket, 'p')
    put(volume, 'a.txt', b'1')
    # s3fs answers a refused HEAD with a listing: both are refused here.
    s3_server.counter.inject(403, count=5)
    with pytest.raises(AccessDeniedError, match="'a.txt'"):
        volume.load('a.txt').open().read()
    s3_server.counter.faults.clear()
    s3_server.counter.inject(403, count=5)
    with pytest.raises(AccessDeniedError, match="'b.txt'"):
        volume.store(IOBuffer(io.BytesIO(b'2')), 'b.txt')
    s3_server.counter.faults.clear()
    assert files_of(volume) == {'a.txt': b'1'}


def test_azure_wrong_account_key_is_access_denied(azurite, azure_container):
    wrong = azurite.connection_string.replace('AccountKey=', 'AccountKey=AAAA')
    volume = AzureVolume(azure_container, 'p', storage_options={'connection_string': wrong})
    for op in (lambda: volume.walk(None), lambda: put(volume, 'a.txt', b'1')):
        with pytest.raises(AccessDeniedError) as info:
            op()
        assert azure_container in str(info.value)


def test_sftp_unknown_key_is_access_denied(sftp_server):
    stranger = asyncssh.generate_private_key('ssh-ed25519')
    with pytest.raises(AccessDeniedError) as info:
        SftpVolume('/denied', '127.0.0.1', port=sftp_server.port,
                   storage_options={'client_keys': [stranger], 'agent_path': None})
    assert f'sftp://127.0.0.1:{sftp_server.port}/denied' in str(info.value)


@pytest.mark.parametrize('url, option, likely', [
    ('s3://b/p', 'endpoint', 'endpoint_url'),
    ('gs://b/p', 'projekt', 'project'),
    ('az://c/p', 'connection_strin', 'connection_string'),
    ('webdav://127.0.0.1:9/d', 'part_size', None),
    ('sftp://127.0.0.1:9/d', 'client_key', 'client_keys'),
    ('https://127.0.0.1:9/d/', 'header', 'headers'),
    ('/tmp/volume', 'auto_mkdirs', 'auto_mkdir'),
])
def test_a_mistyped_storage_option_is_refused_when_the_volume_is_built(url, option, likely):
    """fsspec filesystems take any keyword: without the check, a typo fails
    at the first request with a raw TypeError, or never."""
    with pytest.raises(InvalidConfigurationError) as info:
        from_url(url, **{option: 'x'})
    message = str(info.value)
    assert f"option {option!r}" in message and 'accepted: ' in message
    if likely:
        assert f'did you mean {likely!r}' in message
