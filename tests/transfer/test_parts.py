"""Big files in concurrent parts: multipart uploads to S3 and ranged
downloads from object stores, with a bound on the parts in flight, nothing
left behind by a failure, no mix of two versions, and progress per part."""

import os
import uuid

import fsspec
import pytest
from fsspec.callbacks import Callback

from flowserv_fsspec import (
    AzureVolume,
    GCVolume,
    LocalVolume,
    MemoryVolume,
    S3Volume,
    copy_files,
)
from flowserv_fsspec.backends import s3_writes
from flowserv_fsspec.base import copy_planned, ends
from flowserv_fsspec.errors import InvalidConfigurationError, TransferError, VolumeError
from flowserv_fsspec.files import StreamedFile
from flowserv_fsspec.parts import Parts, Ranges
from flowserv_fsspec.plan import planned
from flowserv_fsspec.testing import files_of, put


MiB = 2 ** 20
PARTS = {'part_size': 5 * MiB, 'max_concurrency': 3}


def payload(size: int) -> bytes:
    block = os.urandom(MiB)
    return (block * (size // MiB + 1))[:size]


def s3_volume(bucket, **options):
    return S3Volume(bucket, f'{uuid.uuid4().hex}/vol', storage_options={**PARTS, **options})


def count_running(monkeypatch, owner, name):
    """Count the calls of a coroutine method running at once: the client's
    count of parts in flight (the server's count lags behind the closing of
    each answer, by one more on a loaded machine). Gives a list holding the
    most seen.
    """
    running, most, real = [0], [0], getattr(owner, name)

    async def counted(*args, **kwargs):
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            return await real(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(owner, name, counted)
    return most


def test_upload_in_concurrent_parts(bucket, s3_server, tmp_path, monkeypatch):
    data = payload(23 * MiB)  # 5 parts: 4 x 5 MiB and 3 MiB
    local = LocalVolume(str(tmp_path / 'src'))
    put(local, 'big.bin', data)
    target = s3_volume(bucket)
    most = count_running(monkeypatch, target.writes, '_upload_part')
    s3_server.counter.reset()
    copy_files('big.bin', local, 'big.bin', target)
    assert target.load('big.bin').open().read() == data
    counts = s3_server.counter.snapshot()
    assert counts['methods']['PUT'] == 5  # the parts; create and complete are POSTs
    assert s3_server.counter.max_in_flight >= 2 and most[0] == 3  # max_concurrency


def test_download_in_concurrent_parts(bucket, s3_server, tmp_path, monkeypatch):
    data = payload(23 * MiB)
    source = s3_volume(bucket)
    put(source, 'big.bin', data)
    target = LocalVolume(str(tmp_path / 'dst'))
    most = count_running(monkeypatch, Ranges, 'read')
    s3_server.counter.reset()
    copy_files('big.bin', source, 'copy.bin', target)
    assert files_of(target) == {'copy.bin': data}
    counts = s3_server.counter.snapshot()
    assert counts['methods']['GET'] == 5 + 1  # the parts, and the listing
    assert s3_server.counter.max_in_flight >= 2 and most[0] == 3  # max_concurrency
    assert os.listdir(tmp_path / 'dst') == ['copy.bin']


def test_upload_of_a_stream_that_is_not_a_file(bucket, s3_server):
    """Parts of a source without a file descriptor are read into memory."""
    data = payload(12 * MiB)
    source = MemoryVolume(fsspec.filesystem('memory'), root=f'/{uuid.uuid4().hex}')
    put(source, 'big.bin', data)
    target = s3_volume(bucket)
    s3_server.counter.reset()
    copy_files('big.bin', source, 'big.bin', target)
    assert target.load('big.bin').open().read() == data
    assert s3_server.counter.snapshot()['methods']['PUT'] == 3


def test_a_small_file_is_one_put(bucket, s3_server, tmp_path):
    local = LocalVolume(str(tmp_path / 'src'))
    put(local, 'f.bin', payload(4 * MiB))
    target = s3_volume(bucket)
    s3_server.counter.reset()
    copy_files('f.bin', local, 'f.bin', target)
    assert s3_server.counter.snapshot()['methods'] == {'PUT': 1}


def test_a_failed_part_upload_leaves_no_object(bucket, s3_server, s3_client, tmp_path):
    old, new = b'previous version', payload(16 * MiB)
    target = s3_volume(bucket, retries=1)
    put(target, 'big.bin', old)
    local = LocalVolume(str(tmp_path / 'src'))
    put(local, 'big.bin', new)
    s3_server.counter.reset()
    s3_server.counter.inject(503, count=50)
    with pytest.raises(VolumeError) as ex:
        target.store(local.load('big.bin'), 'big.bin')
    s3_server.counter.faults.clear()
    assert 'big.bin' in str(ex.value)
    assert files_of(target) == {'big.bin': old}
    uploads = s3_client.call_s3('list_multipart_uploads', Bucket=bucket).get('Uploads', [])
    assert [u['Key'] for u in uploads if u['Key'].startswith(target.prefix)] == []


def test_a_failed_part_download_leaves_no_file(bucket, s3_server, tmp_path):
    source = s3_volume(bucket, retries=1)
    put(source, 'big.bin', payload(16 * MiB))
    target = LocalVolume(str(tmp_path / 'dst'))
    put(target, 'big.bin', b'previous version')
    pairs = list(planned(['big.bin'], 'big.bin', ends(source, target)))  # listed before the fault
    s3_server.counter.inject(503, count=50)
    with pytest.raises(TransferError) as ex:
        copy_planned(pairs, source, target)
    s3_server.counter.faults.clear()
    assert "'big.bin'" in str(ex.value)
    assert files_of(target) == {'big.bin': b'previous version'}
    assert os.listdir(tmp_path / 'dst') == ['big.bin']


def test_a_broken_part_is_read_again(bucket, s3_server, tmp_path):
    """One connection reset: botocore or the part reader tries again."""
    data = payload(12 * MiB)
    source = s3_volume(bucket)
    put(source, 'big.bin', data)
    reader = StreamedFile(source.load('big.bin')).stream()
    s3_server.counter.inject('reset', count=2)
    with reader:
        assert reader.read() == data


def test_an_object_replaced_while_read_is_an_error(bucket, s3_client):
    source = s3_volume(bucket, max_concurrency=1)
    put(source, 'big.bin', payload(16 * MiB))
    with StreamedFile(source.load('big.bin')).stream() as reader:
        first = reader.read(MiB)
        s3_client.pipe_file(source.path('big.bin'), payload(16 * MiB))
        with pytest.raises(VolumeError) as ex:
            reader.read()
    assert len(first) == MiB
    assert 'big.bin' in str(ex.value)


@pytest.mark.parametrize('backend', ['gcs', 'azure'])
def test_other_object_stores_download_in_parts(backend, request, tmp_path):
    data = payload(12 * MiB)
    cls, container = {
        'gcs': (GCVolume, 'gcs_bucket'), 'azure': (AzureVolume, 'azure_container')
    }[backend]
    source = cls(
        request.getfixturevalue(container), f'{uuid.uuid4().hex}/vol', storage_options=PARTS
    )
    put(source, 'big.bin', data)
    handle = source.load('big.bin')
    assert handle.parts == Parts(5 * MiB, 3)
    with StreamedFile(handle).stream() as reader:
        first = reader.read(MiB)
        put(source, 'big.bin', payload(12 * MiB))  # replaced between parts
        with pytest.raises(VolumeError, match='changed'):
            reader.read()
    target = LocalVolume(str(tmp_path / 'dst'))
    copy_files('big.bin', source, 'copy.bin', target)
    assert files_of(target) == {'copy.bin': files_of(source)['big.bin']}
    assert len(first) == MiB


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.updates = []

    def call(self, *args, **kwargs):
        self.updates.append(self.value)


@pytest.mark.parametrize('direction', ['download', 'upload'])
def test_progress_advances_part_by_part(bucket, tmp_path, direction):
    data = payload(23 * MiB)
    remote, local = s3_volume(bucket), LocalVolume(str(tmp_path / 'local'))
    source, target = (remote, local) if direction == 'download' else (local, remote)
    put(source, 'big.bin', data)
    recorder = Recorder()
    copy_files('big.bin', source, 'copy.bin', target, callback=recorder)
    assert recorder.size == len(data) and recorder.value == len(data)
    assert len([v for v in recorder.updates if 0 < v < len(data)]) >= 4
    assert target.load('copy.bin').open().read() == data


@pytest.mark.parametrize('options', [
    {'part_size': MiB}, {'part_size': 6 * 2 ** 30}, {'part_size': '8M'},
    {'max_concurrency': 0}, {'max_concurrency': True}, {'max_concurrency': 100},
])
def test_part_options_are_checked(options):
    with pytest.raises(InvalidConfigurationError) as ex:
        S3Volume('bkt', storage_options=options)
    assert next(iter(options)) in str(ex.value)


def test_a_copy_too_big_for_one_request_goes_in_parts(bucket, s3_server, monkeypatch):
    monkeypatch.setattr(s3_writes, 'S3_COPY_LIMIT', 10 * MiB)  # S3's is 5 GiB
    data = payload(23 * MiB)
    source = s3_volume(bucket)
    put(source, 'big.bin', data)
    target = source.get_store_for_folder('copy')  # same endpoint: server-side
    most = count_running(monkeypatch, target.writes, '_copy_part')
    s3_server.counter.reset()
    copy_files('big.bin', source, 'big.bin', target)
    counts = s3_server.counter.snapshot()
    assert counts['methods']['PUT'] == 5  # UploadPartCopy of 5 MiB ranges
    assert counts['bytes_in'] < MiB and counts['bytes_out'] < MiB  # no payload moved
    assert most[0] == 3  # max_concurrency
    assert target.load('big.bin').open().read() == data


def test_a_failed_copy_in_parts_leaves_no_object(bucket, s3_server, s3_client, monkeypatch):
    monkeypatch.setattr(s3_writes, 'S3_COPY_LIMIT', 10 * MiB)
    source = s3_volume(bucket, retries=1)
    put(source, 'big.bin', payload(12 * MiB))
    target = source.get_store_for_folder('copy')
    pairs = list(planned(['big.bin'], 'big.bin', ends(source, target)))
    real = target.fs._call_s3

    async def failing(method, *args, **kwargs):
        if method == 'upload_part_copy' and kwargs['PartNumber'] == 2:
            raise OSError('connection lost')
        return await real(method, *args, **kwargs)

    monkeypatch.setattr(target.fs, '_call_s3', failing)
    with pytest.raises(TransferError):
        copy_planned(pairs, source, target)
    monkeypatch.undo()
    assert files_of(target) == {}
    uploads = s3_client.call_s3('list_multipart_uploads', Bucket=bucket).get('Uploads', [])
    assert [u['Key'] for u in uploads if u['Key'].startswith(target.prefix)] == []


def test_azure_uploads_blocks_concurrently(azure_container, tmp_path, monkeypatch):
    """The SDK stages 4 MiB blocks, max_concurrency at once, and commits them."""
    data = payload(80 * MiB)  # over the SDK's 64 MiB single-PUT limit
    local = LocalVolume(str(tmp_path / 'src'))
    put(local, 'big.bin', data)
    target = AzureVolume(azure_container, uuid.uuid4().hex, storage_options=PARTS)
    put(target, 'big.bin', b'previous version')
    from azure.storage.blob._generated.aio.operations import BlockBlobOperations
    real = BlockBlobOperations.stage_block
    # Counted per upload: blocks of the failed upload may still be finishing
    # when the next one starts.
    uploads = [{'now': 0, 'most': 0, 'all': 0, 'fail_at': 5}]

    async def stage_block(self, *args, **kwargs):
        calls = uploads[-1]
        calls['now'] += 1
        calls['all'] += 1
        calls['most'] = max(calls['most'], calls['now'])
        try:
            if calls['all'] == calls['fail_at']:
                raise OSError('connection lost')
            return await real(self, *args, **kwargs)
        finally:
            calls['now'] -= 1

    monkeypatch.setattr(BlockBlobOperations, 'stage_block', stage_block)
    with pytest.raises(VolumeError):
        target.store(local.load('big.bin'), 'big.bin')
    assert files_of(target) == {'big.bin': b'previous version'}
    uploads.append({'now': 0, 'most': 0, 'all': 0, 'fail_at': 0})
    calls = uploads[-1]
    copy_files('big.bin', local, 'big.bin', target)
    assert target.load('big.bin').open().read() == data
    # 4 MiB blocks; 3 in flight (the SDK may start the next one before the
    # finished call has returned through this wrapper).
    assert calls['all'] == 20 and 3 <= calls['most'] <= 4


def test_a_failed_abort_is_reported_and_cleanup_finds_the_upload(bucket, monkeypatch, caplog):
    """An upload that fails, and whose abort fails too, is said to be left
    open (in the error and the log) and ``cleanup`` then removes it."""
    from flowserv_fsspec.cleanup import cleanup
    from flowserv_fsspec.errors import StorageError
    from flowserv_fsspec.testing import FailingHandle
    volume = S3Volume(bucket, 'abort', storage_options={'part_size': 5 * 2 ** 20})
    real = volume.fs.call_s3

    def no_abort(method, *args, **kwargs):
        if method == 'abort_multipart_upload':
            raise PermissionError('AccessDenied: abort not allowed')
        return real(method, *args, **kwargs)

    monkeypatch.setattr(volume.fs, 'call_s3', no_abort)
    with pytest.raises(StorageError) as info:
        volume.store(FailingHandle(12 * 2 ** 20), 'big.bin')
    message = str(info.value)
    assert 'source failed mid-stream' in message and 'left open' in message
    assert 'cleanup' in message and "'big.bin'" in message
    assert [r for r in caplog.records if r.levelname == 'WARNING' and 'left open' in r.message]
    monkeypatch.undo()
    found = cleanup(volume, older_than=0)
    assert [(x.kind, x.key) for x in found] == [('multipart upload', 'big.bin')]
