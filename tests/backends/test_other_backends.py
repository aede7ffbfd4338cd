"""What is special to the GCS, Azure, SFTP and WebDAV backends: flowserv's
documents, URL forms, buckets that must exist, and missing extras."""

import json
import sys
import zipfile

import pytest
from flowserv.volume.gc import GCBucket as FlowservGCBucket
from flowserv.volume.ssh import Sftp as FlowservSftp

from flowserv_fsspec import (
    AzureContainer,
    AzureVolume,
    GCBucket,
    GCVolume,
    Sftp,
    SftpVolume,
    Volume,
    WebDav,
    WebdavVolume,
    from_url,
)
from flowserv_fsspec.errors import (
    MissingExtraError,
    StorageError,
    UnsupportedOperationError,
)
from flowserv_fsspec.testing import files_of, put


@pytest.mark.parametrize('args', [('b', None, None), ('my-bucket', 'runs/r1', 'v1')])
def test_gc_document_is_byte_identical_to_flowserv(args):
    assert json.dumps(GCBucket(*args)) == json.dumps(FlowservGCBucket(*args))


@pytest.mark.parametrize('args,kwargs', [
    (('/data', 'host.example'), {}),
    (('runs', 'h'), dict(port=2222, timeout=2.5, look_for_keys=True, sep='\\\\', identifier='s1')),
])
def test_sftp_document_is_byte_identical_to_flowserv(args, kwargs):
    assert json.dumps(Sftp(*args, **kwargs)) == json.dumps(FlowservSftp(*args, **kwargs))


def test_flowserv_gc_document_loads_and_round_trips(gcs_bucket):
    doc = FlowservGCBucket(gcs_bucket, 'runs', 'g1')
    volume = Volume(doc)
    assert type(volume) is GCVolume and volume.bucket_name == gcs_bucket
    assert volume.to_dict() == doc


def test_flowserv_sftp_document_loads_and_round_trips(sftp_server):
    doc = FlowservSftp('/docs', '127.0.0.1', port=sftp_server.port, identifier='s1')
    volume = Volume(doc)
    assert type(volume) is SftpVolume
    put(volume, 'a/b.txt', b'over sftp')
    assert volume.to_dict() == doc
    assert files_of(Volume(doc)) == {'a/b.txt': b'over sftp'}


def test_azure_and_webdav_documents_round_trip(azure_container, webdav_server):
    for doc, cls in [(AzureContainer(azure_container, 'p', 'a1'), AzureVolume),
                     (WebDav(webdav_server.url, 'dav/root', 'w1'), WebdavVolume)]:
        volume = Volume(doc)
        assert type(volume) is cls and volume.to_dict() == doc
        put(volume, 'x.txt', b'1')
        assert files_of(Volume(doc)) == {'x.txt': b'1'}


def test_urls_select_each_backend(gcs_bucket, azure_container, sftp_server, webdav_server):
    host = webdav_server.url.split('://')[1]
    cases = [
        (f'gs://{gcs_bucket}/p', GCVolume, ('bucket_name', gcs_bucket)),
        (f'gcs://{gcs_bucket}', GCVolume, ('prefix', None)),
        (f'az://{azure_container}/p/q', AzureVolume, ('prefix', 'p/q')),
        (f'abfs://{azure_container}', AzureVolume, ('container', azure_container)),
        (f'sftp://127.0.0.1:{sftp_server.port}/srv/data', SftpVolume, ('remotedir', '/srv/data')),
        (f'webdav://{host}/a/b', WebdavVolume, ('basedir', 'a/b')),
        (f'dav://{host}', WebdavVolume, ('base_url', webdav_server.url)),
    ]
    for url, cls, (attr, value) in cases:
        volume = from_url(url)
        assert type(volume) is cls, url
        assert getattr(volume, attr) == value, url
    assert from_url(f'davs://{host}/x').base_url == f'https://{host}'


@pytest.mark.parametrize('url,module,extra', [
    ('gs://b', 'gcsfs', 'gcs'), ('az://c', 'adlfs', 'azure'),
    ('sftp://h/x', 'sshfs', 'sftp'), ('webdav://h/x', 'webdav4', 'webdav'),
])
def test_missing_extra_names_the_extra(monkeypatch, url, module, extra):
    for name in list(sys.modules):
        if name == module or name.startswith(module + '.'):
            monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtraError) as ex:
        from_url(url)
    assert f"pip install 'flowserv-fsspec[{extra}]'" in str(ex.value)


def test_read_only_filesystem_gives_typed_errors_on_write(tmp_path):
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as z:
        z.writestr('inner/data.txt', b'zipped')
    volume = from_url('zip://', fo=str(tmp_path / 'a.zip'))
    assert files_of(volume) == {'inner/data.txt': b'zipped'}
    with pytest.raises(StorageError) as ex:
        put(volume, 'new.txt', b'1')
    assert "'new.txt'" in str(ex.value)
    with pytest.raises(UnsupportedOperationError):
        volume.delete('inner/data.txt')
    assert files_of(volume) == {'inner/data.txt': b'zipped'}


def test_a_lost_sftp_connection_is_not_reused_by_the_next_volume(sftp_server, tmp_path):
    """fsspec caches one filesystem per server and options: a volume built
    after that filesystem's connection was lost (a server restart, a network
    cut; in the suite, a forked worker) connects again instead of failing
    with 'Connection not open' on every operation."""
    import time

    from flowserv_fsspec import SftpVolume
    from flowserv_fsspec.testing import files_of, put
    folder = str(sftp_server.root / 'lost-connection')
    put(SftpVolume(folder, '127.0.0.1', port=sftp_server.port), 'a.txt', b'1')
    lost = SftpVolume(folder, '127.0.0.1', port=sftp_server.port).fs
    lost.client.close()
    deadline = time.monotonic() + 10
    while not lost.client.is_closed() and time.monotonic() < deadline:
        time.sleep(0.05)
    volume = SftpVolume(folder, '127.0.0.1', port=sftp_server.port)
    assert volume.fs is not lost
    assert files_of(volume) == {'a.txt': b'1'}
