"""What is special to S3: signatures and documents of the reference, request
and byte counts on moto's server, buckets, credentials and listing caches."""

import inspect
import json

import pytest
from flowserv.volume.s3 import S3Bucket as FlowservS3Bucket
from s3fs import S3FileSystem

from flowserv_fsspec import S3_STORE, S3Bucket, S3File, S3Volume, Volume, from_url
from flowserv_fsspec.errors import InvalidConfigurationError, StorageError, VolumeNotFoundError
from flowserv_fsspec.testing import FailingHandle, files_of, put


MIB = 1024 * 1024


def test_reference_signatures():
    params = list(inspect.signature(S3Volume).parameters.values())
    assert [(p.name, p.default) for p in params[:3]] == [
        ('bucket_id', inspect.Parameter.empty), ('prefix', None), ('identifier', None)
    ]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[3:])
    assert list(inspect.signature(S3File).parameters)[:2] == ['bucket', 'key']
    assert list(inspect.signature(S3Bucket).parameters) == ['bucket', 'prefix', 'identifier']
    assert S3_STORE == 's3'


@pytest.mark.parametrize('args', [('b', None, None), ('my-bucket', 'runs/r1', 'vol-1')])
def test_document_is_byte_identical_to_flowserv(args):
    assert json.dumps(S3Bucket(*args)) == json.dumps(FlowservS3Bucket(*args))


def test_attributes_and_document(bucket):
    volume = S3Volume(bucket, prefix='a/b', identifier='v1')
    assert (volume.bucket_id, volume.prefix, volume.identifier) == (bucket, 'a/b', 'v1')
    assert volume.to_dict() == FlowservS3Bucket(bucket, 'a/b', 'v1')
    doc = FlowservS3Bucket(bucket, None, 'v2')
    assert Volume(doc).to_dict() == doc


@pytest.mark.parametrize(
    'url,prefix', [('s3://{}', None), ('s3://{}/', None), ('s3://{}/p/q', 'p/q')]
)
def test_from_url(bucket, url, prefix):
    volume = from_url(url.format(bucket), identifier='x')
    assert isinstance(volume, S3Volume)
    assert (volume.bucket_id, volume.prefix, volume.identifier) == (bucket, prefix, 'x')


def test_walk_keys_are_relative_to_the_prefix(bucket, s3_client):
    volume = S3Volume(bucket, prefix='runs/r1')
    put(volume, 'out/a.txt', b'1')
    assert s3_client.find(bucket) == [f'{bucket}/runs/r1/out/a.txt']
    assert [key for key, _ in volume.walk(None)] == ['out/a.txt']
    assert volume.query('out') == ['out/a.txt']


def test_size_uses_metadata_not_a_download(bucket, s3_server, s3_client):
    s3_client.pipe_file(f'{bucket}/big.bin', b'\1' * (16 * MIB))
    volume = S3Volume(bucket)
    s3_server.counter.reset()
    assert volume.load('big.bin').size() == 16 * MIB
    assert s3_server.counter.snapshot()['methods'] == {'HEAD': 1}
    assert s3_server.counter.bytes_out == 0


def test_batch_size_caps_the_requests_in_flight(bucket, s3_server, s3_client):
    """The option ``batch_size`` reaches the filesystem (s3fs alone passes it
    to aiobotocore, which fails): 200 small copies, at most 3 at once."""
    s3_client.pipe({f'{bucket}/a/f{i:03d}': b'x' * i for i in range(200)})
    source, target = (S3Volume(bucket, prefix, storage_options={'batch_size': 3})
                      for prefix in ('a', 'b'))
    s3_server.counter.reset()
    source.copy(None, target, None)
    assert 2 <= s3_server.counter.max_in_flight <= 3
    assert files_of(target) == files_of(source)
    with pytest.raises(InvalidConfigurationError, match='batch_size'):
        S3Volume(bucket, storage_options={'batch_size': 0})


def test_walk_then_size_of_many_files_costs_one_listing(bucket, s3_server, s3_client):
    s3_client.pipe({f'{bucket}/many/f{i:04d}.txt': b'x' * (i % 7) for i in range(1000)})
    volume = S3Volume(bucket, prefix='many')
    s3_server.counter.reset()
    sizes = [handle.size() for _, handle in volume.walk(None)]
    assert sizes == [i % 7 for i in range(1000)]
    assert s3_server.counter.snapshot()['methods'] == {'GET': 1}


def test_small_read_of_big_object_fetches_a_bounded_block(bucket, s3_server, s3_client):
    s3_client.pipe_file(f'{bucket}/big.bin', b'\2' * (16 * MIB))
    handle = S3Volume(bucket).load('big.bin')
    s3_server.counter.reset()
    with handle.stream() as f:
        assert f.read(1024) == b'\2' * 1024
    assert s3_server.counter.bytes_out <= 4 * MIB + 1024


def test_delete_prefix_folder_removes_only_that_folder(bucket, s3_client):
    s3_client.pipe({f'{bucket}/{d}/f{i}': b'x' for d in ['d0'] + [f'd0{j}' for j in range(10)]
                    for i in range(3)})
    S3Volume(bucket).delete('d0')
    remaining = s3_client.find(bucket)
    assert len(remaining) == 30
    assert not any(key.startswith(f'{bucket}/d0/') for key in remaining)


def test_erase_of_bucket_root_keeps_the_bucket(bucket, s3_client):
    volume = S3Volume(bucket)
    put(volume, 'a/b.txt', b'1')
    put(volume, 'c.txt', b'2')
    volume.erase()
    assert s3_client.find(bucket) == []
    assert s3_client.exists(bucket)
    put(volume, 'again.txt', b'3')
    assert list(files_of(volume)) == ['again.txt']


def test_missing_bucket_fails_and_is_never_created(s3_client):
    volume = S3Volume('no-such-bucket-here', prefix='p')
    for op in (lambda: volume.walk(None), lambda: put(volume, 'f.txt', b'1')):
        with pytest.raises(VolumeNotFoundError) as ex:
            op()
        assert 'no-such-bucket-here' in str(ex.value)
    volume.mkdir('some/dir')
    s3_client.invalidate_cache()
    assert not s3_client.exists('no-such-bucket-here')


@pytest.mark.parametrize('bucket_id', ['', None, 'a/b'])
def test_invalid_bucket_names_are_configuration_errors(bucket_id):
    with pytest.raises(InvalidConfigurationError):
        S3Volume(bucket_id)


def test_storage_options_work_without_environment_and_stay_secret(bucket, s3_server, monkeypatch):
    for name in ('AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):
        monkeypatch.delenv(name)
    secret = 'planted-secret-7f3a9c'
    options = dict(endpoint_url=s3_server.endpoint_url, key='planted-key-id', secret=secret)
    volume = S3Volume(bucket, prefix='p', storage_options=options)
    put(volume, 'f.txt', b'ok')
    assert files_of(volume) == {'f.txt': b'ok'}
    sub = volume.get_store_for_folder('sub')
    put(sub, 'g.txt', b'sub')
    shown = [json.dumps(volume.to_dict()), volume.describe(), repr(volume), repr(sub),
             json.dumps(sub.to_dict()), repr(volume.load('f.txt'))]
    assert not any(secret in text or 'planted-key-id' in text for text in shown)


def test_volume_with_caching_filesystem_still_sees_other_writers(bucket, s3_server, s3_client):
    cached = S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())
    volume = S3Volume(bucket, prefix='shared', fs=cached)
    put(volume, 'mine/a.txt', b'1')
    assert [key for key, _ in volume.walk(None)] == ['mine/a.txt']
    cached.ls(f'{bucket}/shared/mine')  # fill the listing cache
    s3_client.pipe_file(f'{bucket}/shared/mine/b.txt', b'22')
    assert volume.load('mine/b.txt').size() == 2
    s3_client.rm_file(f'{bucket}/shared/mine/a.txt')
    assert [key for key, _ in volume.walk('mine')] == ['mine/b.txt']
    volume.delete('mine/b.txt')
    assert s3_client.find(f'{bucket}/shared') == []


def test_s3file_reads_through_fsspec(bucket, s3_client):
    s3_client.pipe_file(f'{bucket}/p/k.txt', b'content')
    volume = S3Volume(bucket, prefix='p')
    handle = S3File(volume, 'p/k.txt')
    assert handle.size() == 7
    with handle.open() as f:
        assert f.read() == b'content'


def test_failed_multipart_upload_is_aborted(bucket, s3_client):
    volume = S3Volume(bucket, prefix='mpu')
    with pytest.raises(StorageError):
        volume.store(FailingHandle(20 * MIB), 'big.bin')  # two parts sent, then the failure
    assert s3_client.find(bucket) == []
    assert s3_client.list_multipart_uploads(bucket) == []


def test_handle_errors_name_the_key_in_the_volume(bucket, s3_client):
    """As on every backend: 'f.bin', not the object key 'runs/f.bin'."""
    from flowserv_fsspec.errors import UnknownFileError
    volume = S3Volume(bucket, 'runs')
    put(volume, 'f.bin', b'data')
    handles = [volume.load('f.bin'), dict(volume.walk(None))['f.bin']]
    s3_client.rm_file(f'{bucket}/runs/f.bin')
    for handle in handles:
        with pytest.raises(UnknownFileError) as info:
            handle.open()
        assert "'f.bin'" in str(info.value) and 'runs/f.bin' not in str(info.value).split(' in ')[0]


@pytest.mark.parametrize('key, secret, code', [
    ('no-such-key', 'x', 'InvalidAccessKeyId'), (None, 'wrong', 'SignatureDoesNotMatch'),
])
def test_wrong_credentials_say_why(rclone_s3, key, secret, code):
    """rclone's S3 server checks credentials (moto's does not by default)."""
    from flowserv_fsspec.errors import AccessDeniedError
    from flowserv_fsspec.testing import rclone_server
    bucket = rclone_s3.create_buckets('creds-' + code.lower()[:20])[0]
    volume = S3Volume(bucket, 'p', storage_options=dict(
        endpoint_url=rclone_s3.endpoint_url, key=key or rclone_server.KEY, secret=secret,
        skip_instance_cache=True))
    with pytest.raises(AccessDeniedError) as info:
        volume.walk(None)
    message = str(info.value)
    assert code in message and "''" not in message and 'the volume root' in message
    assert len(message.splitlines()) == 1


def test_s3_timestamps_are_read_without_dateutil(s3_server, bucket):
    """botocore parses each timestamp with dateutil (~0.35 ms a key of a
    listing, ~0.13 ms the Last-Modified header of each GET); our clients
    read S3's ISO 8601 form with fromisoformat, HTTP dates with email.utils,
    and other forms as botocore does."""
    import datetime

    from dateutil import parser as dateutil_parser

    from flowserv_fsspec.backends.s3_answers import parse_timestamp
    utc = datetime.timezone.utc
    assert parse_timestamp('2026-11-30T05:00:47.123Z') == datetime.datetime(
        2026, 11, 30, 5, 0, 47, 123000, tzinfo=utc)
    assert parse_timestamp('Mon, 30 Nov 2026 05:00:47 GMT') == datetime.datetime(
        2026, 11, 30, 5, 0, 47, tzinfo=utc)
    assert parse_timestamp(0) == datetime.datetime(1970, 1, 1, tzinfo=utc)
    volume = S3Volume(bucket)
    put(volume, 'a.txt', b'x')
    page = volume.fs.call_s3('list_objects_v2', Bucket=bucket)
    assert page['Contents'][0]['LastModified'].tzinfo is utc  # dateutil gives tzutc()
    used = []
    real_parse = dateutil_parser.parse
    dateutil_parser.parse = lambda *args, **kwargs: used.append(args) or real_parse(*args, **kwargs)
    try:
        head = volume.fs.call_s3('head_object', Bucket=bucket, Key='a.txt')
        got = volume.fs.call_s3('get_object', Bucket=bucket, Key='a.txt')
    finally:
        dateutil_parser.parse = real_parse
    assert head['LastModified'] == got['LastModified'] == page['Contents'][0]['LastModified']
    assert used == []
