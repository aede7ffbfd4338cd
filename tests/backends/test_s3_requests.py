"""The lean S3 request path (``flowserv_fsspec.backends.s3_requests``): the
same answers, signatures, errors and retries as botocore's, on moto's and on
rclone's S3 server (which checks signatures), for the requests listings and
bulk reads repeat; every other request stays botocore's."""

import datetime
import logging
import uuid

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


def test_a_listing_and_a_bulk_read_go_around_botocores_pipeline(bucket, s3_server, tmp_path):
    volume = S3Volume(bucket, 'bulk', storage_options={'skip_instance_cache': True})
    volume.fs.pipe({f'{bucket}/bulk/f{i:03d}': b'x' * i for i in range(60)})
    calls = counted(volume.fs)
    assert copy_files(None, volume, None, LocalVolume(str(tmp_path))) == [
        f'f{i:03d}' for i in range(60)
    ]
    assert (tmp_path / 'f059').read_bytes() == b'x' * 59
    assert calls == []
    extra = S3Volume(bucket, 'bulk', storage_options={
        **s3_server.storage_options(), 's3_additional_kwargs': {'RequestPayer': 'requester'},
        'skip_instance_cache': True,
    })
    calls = counted(extra.fs)
    assert len(extra.walk(None)) == 60
    assert calls == ['ListObjectsV2']  # extra parameters: botocore's path
    off = S3Volume(bucket, 'bulk', storage_options={'lean_requests': False})
    calls = counted(off.fs)
    assert len(off.walk(None)) == 60
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
    ]
    for method, params in requests:
        verb, below, query, headers = request_of(method, params)
        route.sign(verb, (route.path + below) or '/', query, headers, credentials,
                   now.replace(tzinfo=datetime.timezone.utc))
        theirs = AWSRequest(verb, route.url((route.path + below) or '/', query), headers={
            name: value for name, value in headers.items()
            if name not in ('Authorization', 'x-amz-date', 'x-amz-security-token')
        })
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
