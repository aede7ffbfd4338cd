"""The lean S3 request path (``flowserv_fsspec.backends.s3_requests``): the
same answers, signatures, errors and retries as botocore's, on moto's and on
rclone's S3 server (which checks signatures), for the requests listings and
bulk reads repeat; every other request stays botocore's."""

import base64
import datetime
import logging
import uuid
import zlib

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from fsspec.asyn import sync

from flowserv_fsspec import LocalVolume, S3Volume, copy_files
from flowserv_fsspec.backends import s3_client
from flowserv_fsspec.backends.s3_requests import Route, request_of
from flowserv_fsspec.errors import InvalidConfigurationError, StorageError, UnknownFileError


KEYS = [
    'odd/plain.txt', 'odd/sp ace', 'odd/plus+sign', 'odd/per%25cent', 'odd/glob*[x]?',
    'odd/hash#frag', 'odd/ünïcødé', 'odd/tab\tand~tilde', 'odd/deep/er/a=b&c',
]
"""Keys whose characters a request must encode, sign and decode exactly."""


@pytest.fixture(params=['moto', 'rclone'])
def server(request):
    """moto's S3 server, or rclone's (which checks every signature)."""
    return request.getfixturevalue('s3_server' if request.param == 'moto' else 'rclone_s3')


def filesystem(server):
    """A fresh client of the library's S3 filesystem on ``server``."""
    return s3_client.s3_filesystem(dict(server.storage_options(), skip_instance_cache=True))


def counted(fs):
    """Count the requests that go through botocore's pipeline, by operation."""
    calls = []
    fs.call_s3('list_buckets')  # the client exists
    fs.s3.meta.events.register(
        'before-call.s3', lambda model, **kwargs: calls.append(model.name)
    )
    return calls


def botocore(fs, method, **params):
    """The answer of botocore's own client."""
    return sync(fs.loop, getattr(fs.s3, method), **params)


def test_answers_are_botocores(server):
    bucket = server.create_buckets('lean-' + uuid.uuid4().hex[:8])[0]
    fs = filesystem(server)
    fs.pipe({f'{bucket}/{key}': key.encode() for key in KEYS})
    calls = counted(fs)
    fields = ('Key', 'Size', 'LastModified', 'ETag')
    for params in [{'Prefix': 'odd/'}, {'Prefix': 'odd/', 'MaxKeys': 2}, {'Delimiter': '/'},
                   {'Prefix': 'odd/', 'Delimiter': '/'}, {'StartAfter': 'odd/p'}]:
        lean = fs.call_s3('list_objects_v2', Bucket=bucket, **params)
        theirs = botocore(fs, 'list_objects_v2', Bucket=bucket, **params)
        assert [{f: item[f] for f in fields} for item in lean.get('Contents', [])] == [
            {f: item[f] for f in fields} for item in theirs.get('Contents', [])
        ], params
        assert lean.get('CommonPrefixes') == theirs.get('CommonPrefixes')
        assert lean['IsTruncated'] == theirs['IsTruncated']
        assert ('NextContinuationToken' in lean) == ('NextContinuationToken' in theirs)
    listed = fs.call_s3('list_objects_v2', Bucket=bucket, Prefix='odd/', MaxKeys=4)
    rest = fs.call_s3(
        'list_objects_v2', Bucket=bucket, Prefix='odd/',
        ContinuationToken=listed['NextContinuationToken']
    )
    assert sorted(i['Key'] for i in listed['Contents'] + rest['Contents']) == sorted(KEYS)
    for key in KEYS:
        lean = fs.call_s3('head_object', Bucket=bucket, Key=key)
        theirs = botocore(fs, 'head_object', Bucket=bucket, Key=key)
        for field in ('ContentLength', 'ETag', 'LastModified', 'Metadata'):
            assert lean[field] == theirs[field], (key, field)
        got = fs.call_s3('get_object', Bucket=bucket, Key=key, Range='bytes=1-3')
        data = sync(fs.loop, got['Body'].read)
        assert data == key.encode()[1:4] or data == key.encode()  # a 200 gives it whole
    assert calls == ['ListObjectsV2'] * 5 + ['HeadObject'] * len(KEYS)  # botocore's own


def test_writes_are_botocores(server):
    bucket = server.create_buckets('lean-' + uuid.uuid4().hex[:8])[0]
    fs = filesystem(server)
    calls = counted(fs)
    for key in KEYS:
        fs.call_s3('put_object', Bucket=bucket, Key=key, Body=key.encode(),
                   Metadata={'mtime': '12.5'})
        fs.call_s3('copy_object', Bucket=bucket, Key=f'copied/{key}',
                   CopySource={'Bucket': bucket, 'Key': key})
    assert calls == []
    for key in KEYS:
        theirs = botocore(fs, 'get_object', Bucket=bucket, Key=key, ChecksumMode='ENABLED')
        assert sync(fs.loop, theirs['Body'].read) == key.encode()
        assert theirs['Metadata'] == {'mtime': '12.5'}
        if 'ChecksumCRC32' in theirs:  # the server kept the checksum sent
            assert theirs['ChecksumCRC32'] == base64.b64encode(
                zlib.crc32(key.encode()).to_bytes(4, 'big')
            ).decode()
        copied = botocore(fs, 'head_object', Bucket=bucket, Key=f'copied/{key}')
        assert (copied['ETag'], copied['Metadata']) == (theirs['ETag'], {'mtime': '12.5'})


def test_copies_go_around_botocores_pipeline(bucket, s3_server, tmp_path):
    volume = S3Volume(bucket, 'bulk', storage_options={'skip_instance_cache': True})
    calls = counted(volume.fs)
    local = LocalVolume(str(tmp_path))
    for i in range(60):
        (tmp_path / 'up' / f'f{i:03d}').parent.mkdir(exist_ok=True)
        (tmp_path / 'up' / f'f{i:03d}').write_bytes(b'x' * i)
    keys = [f'f{i:03d}' for i in range(60)]
    assert copy_files('up', local, 'up', volume) == [f'up/{key}' for key in keys]
    assert copy_files('up', volume, 'again', volume) == [f'again/{key}' for key in keys]
    assert copy_files('again', volume, 'down', local) == [f'down/{key}' for key in keys]
    assert (tmp_path / 'down' / 'f059').read_bytes() == b'x' * 59
    assert calls == []
    extra = S3Volume(bucket, 'bulk', storage_options={
        **s3_server.storage_options(), 's3_additional_kwargs': {'RequestPayer': 'requester'},
        'skip_instance_cache': True,
    })
    calls = counted(extra.fs)
    assert len(extra.walk(None)) == 120
    assert calls == ['ListObjectsV2']  # extra parameters: botocore's path
    off = S3Volume(bucket, 'bulk', storage_options={'lean_requests': False})
    calls = counted(off.fs)
    assert len(off.walk(None)) == 120
    assert calls == ['ListObjectsV2']


@pytest.mark.parametrize('value', ['no', 0, None])
def test_the_lean_requests_option_is_checked(value):
    with pytest.raises(InvalidConfigurationError, match='lean_requests'):
        S3Volume('bucket', storage_options={'lean_requests': value})


@pytest.mark.parametrize('url', [
    'http://127.0.0.1:9000/bucket', 'https://bucket.s3.eu-west-1.amazonaws.com',
    'https://[::1]:443/bucket',
])
def test_the_signature_is_botocores(monkeypatch, url):
    now = datetime.datetime(2026, 11, 30, 5, 0, 47)
    monkeypatch.setattr('botocore.auth.get_current_datetime', lambda: now)
    credentials = ReadOnlyCredentials('AKIDEXAMPLE', 'secret/key+x', 'a-session-token')
    route = Route(url, 'eu-west-1')
    requests = [
        ('get_object', {'Key': 'odd/ünï cødé+%*[x]?#', 'Range': 'bytes=0-9', 'IfMatch': '"e"'}),
        ('head_object', {'Key': 'a/b'}),
        ('list_objects_v2', {'Prefix': 'p q/+&=', 'ContinuationToken': 'x/y=', 'MaxKeys': 7}),
        ('put_object', {'Key': 'a b/ü', 'Body': b'data', 'Metadata': {'mtime': '1.5'}}),
        ('copy_object', {'Key': 'c', 'CopySource': {'Bucket': 'src', 'Key': 'ü +/x'}}),
    ]
    for method, params in requests:
        request = request_of(method, params)
        path = (route.path + request.below) or '/'
        headers = dict(request.headers)
        route.sign(request.verb, path, request.query, headers, credentials,
                   now.replace(tzinfo=datetime.timezone.utc), request.body)
        theirs = AWSRequest(request.verb, route.url(path, request.query), headers={
            name: value for name, value in headers.items()
            if name not in ('Authorization', 'x-amz-date', 'x-amz-security-token')
        }, data=request.body)
        S3SigV4Auth(credentials, 's3', 'eu-west-1').add_auth(theirs)
        assert headers['Authorization'] == theirs.headers['Authorization'], method


def test_errors_are_typed_and_name_the_key(server):
    bucket = server.create_buckets('lean-' + uuid.uuid4().hex[:8])[0]
    volume = S3Volume(bucket, 'p', storage_options=server.storage_options())
    with pytest.raises(UnknownFileError, match="'missing.txt'"):
        volume.load('missing.txt').open()
    with pytest.raises(FileNotFoundError):
        volume.fs.call_s3('head_object', Bucket=bucket, Key='p/missing.txt')
    with pytest.raises(FileNotFoundError):
        volume.fs.call_s3('list_objects_v2', Bucket='no-such-bucket-' + bucket)


def test_lean_requests_are_retried_as_botocores(bucket, s3_server, caplog):
    volume = S3Volume(bucket, 'r', storage_options={**s3_server.storage_options(), 'retries': 4})
    volume.fs.pipe({f'{bucket}/r/a.txt': b'a'})
    s3_server.counter.reset()
    s3_server.counter.inject(503, count=3)
    with caplog.at_level(logging.DEBUG, logger='flowserv_fsspec.backends.s3_requests'):
        assert [key for key, _ in volume.walk(None)] == ['a.txt']
    assert s3_server.counter.requests == 4
    assert caplog.text.count('retrying ListObjectsV2') == 3
    once = S3Volume(bucket, 'r', storage_options={**s3_server.storage_options(), 'retries': 1})
    s3_server.counter.inject(503, count=1)
    with pytest.raises(StorageError):
        once.walk(None)
