"""Credentials given as storage options never appear in documents,
descriptions, reprs, error messages or log records, on any backend."""

import json
import logging

import pytest
from google.oauth2.credentials import Credentials

from flowserv_fsspec import (
    AzureVolume,
    GCVolume,
    S3Volume,
    SftpVolume,
    Volume,
    WebdavVolume,
    from_url,
)
from flowserv_fsspec.errors import VolumeError


SECRET = 'planted-Secret-9f2c71'


def volumes(request):
    """Each backend with the planted secret in its credential options."""
    s3 = request.getfixturevalue('s3_server')
    yield S3Volume(request.getfixturevalue('bucket'), 'p', storage_options=dict(
        endpoint_url=s3.endpoint_url, key='testing', secret=SECRET))
    request.getfixturevalue('gcs_server')
    yield GCVolume(request.getfixturevalue('gcs_bucket'), 'p', storage_options=dict(
        token=Credentials(token=SECRET)))
    azurite = request.getfixturevalue('azurite')
    yield AzureVolume(request.getfixturevalue('azure_container'), 'p', storage_options=dict(
        connection_string=azurite.connection_string + f'SharedAccessSignature={SECRET};'))
    sftp = request.getfixturevalue('sftp_server')
    yield SftpVolume('/secret-test', '127.0.0.1', port=sftp.port,
                     storage_options=dict(password=SECRET))
    dav = request.getfixturevalue('webdav_server')
    yield WebdavVolume(dav.url, 'secret', storage_options=dict(auth=('user', SECRET)))


def test_planted_secret_never_shows(request, caplog):
    caplog.set_level(logging.DEBUG)
    shown = []
    for volume in volumes(request):
        sub = volume.get_store_for_folder('sub')
        shown += [json.dumps(volume.to_dict()), json.dumps(sub.to_dict()), volume.describe(),
                  repr(volume), repr(sub), volume.url]
        for op, key in (('load', 'missing.txt'), ('load', '../x'), ('delete', '/abs')):
            with pytest.raises(VolumeError) as ex:
                getattr(volume, op)(key)
            shown.append(str(ex.value))
    assert len(shown) == 5 * 9
    shown += [record.getMessage() for record in caplog.records]
    assert not [text for text in shown if SECRET in text]


def url_volumes(request):
    """Volumes from URLs with the planted secret as password."""
    dav = request.getfixturevalue('webdav_server')
    host = dav.url.split('://')[1]
    yield from_url(f'webdav://user:{SECRET}@{host}/secret')
    yield from_url(f'http://user:{SECRET}@{host}/secret/')
    sftp = request.getfixturevalue('sftp_server')
    yield from_url(f'sftp://user:{SECRET}@127.0.0.1:{sftp.port}/secret')


def test_password_in_a_url_never_shows(request, caplog):
    caplog.set_level(logging.DEBUG)
    shown = []
    for volume in url_volumes(request):
        shown += [json.dumps(volume.to_dict()), volume.describe(), repr(volume), volume.url]
        with pytest.raises(VolumeError) as ex:
            volume.load('missing.txt')
        shown.append(str(ex.value))
        shown.append(json.dumps(Volume(volume.to_dict()).to_dict()))
    for url in (f'webdav://user:{SECRET}@', f'nosuchproto://user:{SECRET}@host/x',
                f'sftp://user:{SECRET}@'):
        with pytest.raises(VolumeError) as ex:
            from_url(url)
        shown.append(str(ex.value))
    assert len(shown) == 3 * 6 + 3
    shown += [record.getMessage() for record in caplog.records]
    assert not [text for text in shown if SECRET in text]


def test_url_credentials_are_used(request):
    """The password taken out of a WebDAV URL becomes the volume's auth."""
    dav = request.getfixturevalue('webdav_server')
    host = dav.url.split('://')[1]
    volume = from_url(f'webdav://user:{SECRET}@{host}/secret')
    assert volume.fs.client.http.auth._auth_header.startswith('Basic ')
    assert volume.base_url == dav.url


@pytest.mark.parametrize('known', ['a wrong key', 'no key'])
def test_an_untrusted_sftp_host_key_refuses_the_connection(sftp_server, tmp_path, monkeypatch,
                                                          known):
    """sshfs turns host key checks off; volumes check ``~/.ssh/known_hosts``."""
    import asyncssh

    from flowserv_fsspec.errors import UntrustedHostError
    ssh = tmp_path / '.ssh'
    ssh.mkdir()
    sftp_server.client_key.write_private_key(str(ssh / 'id_ed25519'))
    other = asyncssh.generate_private_key('ssh-ed25519').export_public_key('openssh').decode()
    line = f'[127.0.0.1]:{sftp_server.port} {other}' if known == 'a wrong key' else ''
    (ssh / 'known_hosts').write_text(line)
    monkeypatch.setenv('HOME', str(tmp_path))
    url = f'sftp://127.0.0.1:{sftp_server.port}/hostkeys'
    with pytest.raises(UntrustedHostError) as info:
        from_url(url, skip_instance_cache=True)
    assert f'127.0.0.1:{sftp_server.port}' in str(info.value)
    assert 'ssh-keyscan' in str(info.value) and 'known_hosts' in str(info.value)
    # Trusting any key is an explicit choice.
    assert from_url(url, skip_instance_cache=True, known_hosts=None).walk(None) == []


RAW = 'se/cr#et?9f2c'
"""A password whose '/', '#' and '?' are not percent-encoded."""


def test_a_password_that_breaks_the_url_never_shows(request):
    """'/', '#' or '?' in a password end the server for URL parsers: such a
    URL is refused, and no message, document or description shows it."""
    ftp = request.getfixturevalue('ftp_server')
    dav = request.getfixturevalue('webdav_server').url.split('://')[1]
    shown = []
    for url in (f'ftp://runner:{RAW}@127.0.0.1:{ftp.port}/d',
                f'simplecache::ftp://runner:{RAW}@127.0.0.1:{ftp.port}/d',
                f'https://user:{RAW}@{dav}/d', f'webdav://user:{RAW}@{dav}/d',
                f's3://KEY:{SECRET}@bkt/p', f'gs://user:{SECRET}@bkt/p'):
        with pytest.raises(VolumeError) as ex:
            from_url(url)
        shown.append(str(ex.value))
    assert not [text for text in shown if 'se/cr' in text or SECRET in text or 'KEY' in text]
    assert all('bkt/p' in text for text in shown[-2:])


def test_a_query_token_is_used_never_shown(request):
    dav = request.getfixturevalue('webdav_server')
    host = dav.url.split('://')[1]
    from_url(f'webdav://{host}/tokens').store(io_buffer(b'x'), 'a.txt')
    volume = from_url(f'http://{host}/tokens/?token={SECRET}')
    assert volume.fs.kwargs['params'] == {'token': SECRET}
    assert volume.load('a.txt').open().read() == b'x'
    sub = volume.get_store_for_folder('sub')
    shown = [json.dumps(volume.to_dict()), volume.describe(), repr(volume), volume.url,
             json.dumps(sub.to_dict()), sub.describe()]
    assert not [text for text in shown if SECRET in text]


def io_buffer(data):
    import io

    from flowserv_fsspec import IOBuffer
    return IOBuffer(io.BytesIO(data))
