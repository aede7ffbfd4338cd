"""Faults in the middle of a copy: a server stopped while many files move
(moto S3 and WebDAV), and transient errors that the backends retry.

A stopped copy raises TransferError; every key it reports done is present
and complete, no partial file is left, and running the same copy again
(once the server is back on its port) completes it.
"""

import threading
import time
import uuid
from typing import Callable, Dict

import pytest

from flowserv_fsspec import LocalVolume, S3Volume, WebdavVolume, transfer
from flowserv_fsspec.base import copy_files
from flowserv_fsspec.errors import InvalidConfigurationError, StorageError, TransferError
from flowserv_fsspec.keys import is_temp_path
from flowserv_fsspec.testing import files_of, put
from flowserv_fsspec.testing.moto_server import MotoS3Server
from flowserv_fsspec.testing.processes import free_port
from flowserv_fsspec.testing.webdav_server import WebdavServer


N_FILES = 300


def make_files(n: int = N_FILES) -> Dict[str, bytes]:
    return {f'run/d{i % 7}/file{i:04d}.txt': b'%05d|' % i * (i % 50 + 1) for i in range(n)}


def stop_after(counter_of: Callable, stop: Callable, requests: int) -> threading.Thread:
    """Stop a server from another thread once it has served some requests."""
    def watch():
        while counter_of().requests < requests:
            time.sleep(0.001)
        stop()
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def check_partial_copy(ex: TransferError, files: Dict[str, bytes], present: Dict[str, bytes]):
    """Reported done = present and complete; nothing else is half there."""
    assert ex.done and ex.pending, 'the server should stop in the middle of the copy'
    assert set(ex.done).isdisjoint(ex.pending)
    assert sorted(ex.done + ex.pending) == sorted(files)
    assert set(ex.done) <= set(present)
    for key, data in present.items():
        assert data == files[key], f'{key} is partial'
    assert ex.key in ex.pending or ex.key in files
    assert str(len(ex.done)) in str(ex)


@pytest.fixture
def own_s3(monkeypatch):
    """A moto server of this test alone (stopped and restarted on its port;
    moto keeps its buckets in the process); small batches so that a copy
    spans many of them."""
    monkeypatch.setattr(transfer, 'BULK_BATCH_FILES', 40)
    server = MotoS3Server().start()
    server.bucket = server.create_buckets(f'faults-{uuid.uuid4().hex[:12]}')[0]
    yield server
    server.stop()


@pytest.mark.parametrize('direction', ['upload', 'download', 'server-side'])
def test_s3_server_stopped_mid_copy(own_s3, tmp_path, direction):
    files = make_files()
    options = dict(own_s3.storage_options(), retries=2)
    s3 = S3Volume(own_s3.bucket, 'src', storage_options=options)
    local = LocalVolume(tmp_path / 'local')
    source = local if direction == 'upload' else s3
    for key, data in files.items():
        put(source, key, data)
    target = {
        'upload': S3Volume(own_s3.bucket, 'dst', storage_options=options),
        'download': LocalVolume(tmp_path / 'target'),
        'server-side': S3Volume(own_s3.bucket, 'dst', storage_options=options),
    }[direction]
    own_s3.counter.reset()
    server = {'s3': own_s3}
    stop_after(lambda: server['s3'].counter, own_s3.stop, requests=60)
    with pytest.raises(TransferError) as info:
        copy_files('run', source, 'run', target)
    server['s3'] = MotoS3Server(port=own_s3.port).start()
    try:
        check_partial_copy(info.value, files, files_of(target))
        if direction == 'download':
            leftovers = [p for p in (tmp_path / 'target').rglob('*') if p.name.endswith('.part')]
            assert leftovers == []
        assert copy_files('run', source, 'run', target) == sorted(files)
        assert files_of(target) == files
    finally:
        server['s3'].stop()


def test_webdav_server_stopped_mid_copy(tmp_path):
    files = make_files(120)
    local = LocalVolume(tmp_path / 'local')
    for key, data in files.items():
        put(local, key, data)
    root = tmp_path / 'dav'
    root.mkdir()
    port = free_port()  # a fixed port, so both servers can reuse the address
    server = WebdavServer(root, port=port).__enter__()
    target = WebdavVolume(server.url, 'dst')
    stop_after(lambda: server.counter, server.stop, requests=150)
    with pytest.raises(TransferError) as info:
        copy_files(None, local, None, target)
    assert not server._thread.is_alive()
    present = {
        str(p.relative_to(root / 'dst')): p.read_bytes() for p in root.rglob('*') if p.is_file()
    }
    # The file being written when the server stopped may remain as a hidden
    # temporary file (its rename and its removal both failed): never under
    # its own name, and not listed by the volume.
    temps = [key for key in present if is_temp_path(key)]
    assert len(temps) <= 1
    check_partial_copy(info.value, files, {k: present[k] for k in present if k not in temps})
    with WebdavServer(root, port=port):
        assert [key for key, _ in target.walk(None) if is_temp_path(key)] == []
        assert copy_files(None, local, None, target) == sorted(files)
        assert files_of(target) == files


@pytest.mark.parametrize('fault', [503, 500, 'reset'])
def test_transient_errors_are_retried(s3_server, bucket, fault):
    """Three failed requests in a row: retried with backoff, nothing lost."""
    volume = S3Volume(bucket, 'retried')
    s3_server.counter.reset()
    s3_server.counter.inject(fault, count=3)
    put(volume, 'a.txt', b'payload')
    assert files_of(volume) == {'a.txt': b'payload'}
    assert s3_server.counter.requests >= 4  # the failed attempts reached the server


def test_retries_option(s3_server, bucket):
    """retries=1: one attempt, so one 503 fails the write with a typed error
    naming the key; retries=4 survives three."""
    once = S3Volume(bucket, 'once', storage_options={'retries': 1})
    s3_server.counter.inject(503, count=1)
    with pytest.raises(StorageError, match="'a.txt'"):
        put(once, 'a.txt', b'payload')
    assert files_of(once) == {}
    s3_server.counter.faults.clear()
    patient = S3Volume(bucket, 'patient', storage_options={'retries': 4})
    s3_server.counter.inject(503, count=3)
    put(patient, 'a.txt', b'payload')
    assert files_of(patient) == {'a.txt': b'payload'}


@pytest.mark.parametrize('retries', [0, -1, 'many', True])
def test_retries_option_is_checked(retries):
    with pytest.raises(InvalidConfigurationError, match='retries'):
        S3Volume('bucket', storage_options={'retries': retries})
