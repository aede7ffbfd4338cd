"""fsspec's URLs as fsspec users write them: chained URLs, options in the URL
(FTP against a real FTP server), paths and UPath objects, storage options of
local volumes."""

import logging
import pathlib
import zipfile
from typing import Iterator

import pytest
from upath import UPath

from flowserv_fsspec import FsspecVolume, LocalVolume, MemoryVolume, S3Volume, Volume, from_url
from flowserv_fsspec.errors import InvalidConfigurationError, VolumeError
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.testing import VolumeContract, files_of, put
from flowserv_fsspec.testing.ftp_server import PASSWORD, USER, FtpServer


@pytest.fixture(scope='module')
def open_ftp_server(tmp_path_factory) -> Iterator[FtpServer]:
    """An FTP server that also lets anonymous logins write (documents carry no
    credentials, so a volume built from one logs in anonymously)."""
    logging.getLogger('pyftpdlib').setLevel(logging.WARNING)
    with FtpServer(tmp_path_factory.mktemp('ftp-open'), anonymous=True) as server:
        yield server


class TestFtpContract(VolumeContract):
    """The whole contract on an FTP volume built from a URL with credentials."""

    @pytest.fixture
    def volume(self, open_ftp_server, request):
        return from_url(open_ftp_server.url(request.node.name))


def test_ftp_url_credentials_stay_out_of_documents_and_messages(ftp_server):
    volume = from_url(ftp_server.url('docs'))
    put(volume, 'a.txt', b'1')
    shown = f'ftp://127.0.0.1:{ftp_server.port}/docs'
    assert volume.to_dict()['args'] == [{'key': 'url', 'value': shown}]
    for text in (str(volume.to_dict()), volume.describe(), repr(volume)):
        assert PASSWORD not in text and USER not in text
    # The document names the server; without credentials the login fails, typed.
    with pytest.raises(InvalidConfigurationError) as ex:
        Volume(volume.to_dict())
    assert shown in str(ex.value)
    with pytest.raises(InvalidConfigurationError) as ex:
        from_url(ftp_server.url('docs').replace(PASSWORD, 'wrong-password'))
    assert 'wrong-password' not in str(ex.value) and shown in str(ex.value)
    # Credentials as storage options instead of in the URL.
    again = from_url(shown, username=USER, password=PASSWORD)
    assert files_of(again) == {'a.txt': b'1'}
    assert again.get_store_for_folder('sub').url == shown + '/sub'


def test_chained_url_reads_through_a_cache(bucket, tmp_path):
    plain = S3Volume(bucket, 'runs')
    put(plain, 'a/x.txt', b'first')
    cached = from_url(f'simplecache::s3://{bucket}/runs', simplecache={
        'cache_storage': str(tmp_path / 'cache')
    })
    assert type(cached) is FsspecVolume
    assert files_of(cached) == {'a/x.txt': b'first'}
    assert_documents_round_trip(cached, f'simplecache::s3://{bucket}/runs', 'a',
                                f'simplecache::s3://{bucket}/runs/a')


def test_chained_url_into_an_archive(tmp_path):
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as z:
        z.writestr('inner/d/data.txt', b'zipped')
        z.writestr('other.txt', b'outside the root')
    url = f'zip://inner::file://{tmp_path}/a.zip'
    volume = from_url(url)
    assert files_of(volume) == {'d/data.txt': b'zipped'}
    assert_documents_round_trip(volume, url, 'd', f'zip://inner/d::file://{tmp_path}/a.zip')


def assert_documents_round_trip(volume, url: str, folder: str, folder_url: str) -> None:
    """The document of a volume and of a sub-folder name the URL and give the
    same files back."""
    files = files_of(volume)
    assert volume.to_dict()['args'] == [{'key': 'url', 'value': url}]
    assert files_of(Volume(volume.to_dict())) == files
    sub = volume.get_store_for_folder(folder)
    assert sub.url == folder_url
    below = {k[len(folder) + 1:]: v for k, v in files.items() if k.startswith(folder + '/')}
    assert below and files_of(Volume(sub.to_dict())) == below


def test_chained_url_of_a_directory_filesystem(tmp_path):
    (tmp_path / 'top' / 'd').mkdir(parents=True)
    (tmp_path / 'top' / 'd' / 'x.txt').write_bytes(b'below')
    volume = from_url(f'dir::file://{tmp_path}/top')
    assert files_of(volume) == {'d/x.txt': b'below'}
    put(volume, 'd/y.txt', b'new')
    assert (tmp_path / 'top' / 'd' / 'y.txt').read_bytes() == b'new'
    assert_documents_round_trip(
        volume, f'dir::file://{tmp_path}/top', 'd', f'dir::file://{tmp_path}/top/d'
    )


@pytest.mark.parametrize('target', ['memory', 's3'])
def test_dir_chains_write_keys_below_their_folder(target, request):
    """No '//' between the folder of a ``dir::`` chain and a key: the
    sub-folder's document names where the files are."""
    top = f"{request.getfixturevalue('bucket')}/p" if target == 's3' else '/r06/x'
    volume = from_url(f'dir::{target}://{top}')
    put(volume, 'sub/g.txt', b'g')
    inner = volume.fs.fs
    assert inner.cat_file(f'{top}/sub/g.txt') == b'g'
    assert [path for path in inner.find(top) if '//' in path] == []
    assert files_of(Volume(volume.get_store_for_folder('sub').to_dict())) == {'g.txt': b'g'}


@pytest.mark.parametrize('target', ['file', 'memory'])
def test_deletes_on_dir_chains(target, tmp_path):
    """delete, erase and sync --delete on ``dir::`` chains (fsspec's
    DirFileSystem is async in name over local disk and memory)."""
    url = f'dir::file://{tmp_path}/w' if target == 'file' else f'dir::memory://{tmp_path.name}/w'
    volume = from_url(url)
    for key in ('a/b.txt', 'a/c.txt', 'd.txt', 'e.txt'):
        put(volume, key, b'x')
    volume.delete('a')
    assert files_of(volume) == {'d.txt': b'x', 'e.txt': b'x'}
    source = MemoryVolume.from_url(f'memory://{tmp_path.name}/src')
    put(source, 'd.txt', b'x')
    assert sync_files(source, volume, delete=True).deleted == ['e.txt']
    assert files_of(volume) == {'d.txt': b'x'}
    volume.erase()
    assert files_of(volume) == {}


def test_document_of_a_volume_built_from_options_alone_fails_typed(tmp_path):
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as z:
        z.writestr('data.txt', b'zipped')
    doc = from_url('zip://', fo=str(tmp_path / 'a.zip')).to_dict()
    with pytest.raises(InvalidConfigurationError) as ex:
        Volume(doc)
    assert "'zip://'" in str(ex.value)


def test_unknown_protocol_in_a_chain_is_a_typed_error():
    with pytest.raises(InvalidConfigurationError) as ex:
        from_url('nosuchcache::memory://x')
    assert 'nosuchcache::memory://x' in str(ex.value)


def test_paths_and_upaths(tmp_path, bucket, s3_server):
    assert isinstance(from_url(pathlib.Path(tmp_path)), LocalVolume)
    assert from_url(pathlib.Path(tmp_path)).basedir == str(tmp_path)
    assert isinstance(from_url(UPath('memory://upath/vol')), MemoryVolume)
    local = from_url(UPath(tmp_path / 'up'))
    assert isinstance(local, LocalVolume) and local.basedir == str(tmp_path / 'up')
    # A UPath brings its storage options; they reach the filesystem, not the document.
    options = dict(s3_server.storage_options(), secret='secret-of-the-upath')
    volume = from_url(UPath(f's3://{bucket}/up', **options))
    assert isinstance(volume, S3Volume) and volume.prefix == 'up'
    assert volume.fs.secret == 'secret-of-the-upath'
    put(volume, 'x.txt', b'1')
    assert files_of(S3Volume(bucket, 'up')) == {'x.txt': b'1'}
    assert 'secret-of-the-upath' not in str(volume.to_dict()) + repr(volume)
    # Options given to from_url take precedence over the UPath's.
    override = from_url(UPath(f's3://{bucket}/up', **options), secret='given')
    assert override.fs.secret == 'given'


@pytest.mark.parametrize('kind', ['ftp', 'sftp', 'webdav+http', 'simplecache'])
def test_a_upath_names_what_its_url_names(kind, request):
    """UPath keeps the server (and a chain's target) in its options: the
    volume is the one its URL string gives, files and document alike."""
    if kind == 'ftp':
        url = request.getfixturevalue('ftp_server').url('upaths')
    elif kind == 'sftp':
        url = f"sftp://127.0.0.1:{request.getfixturevalue('sftp_server').port}/upaths"
    elif kind == 'webdav+http':
        url = request.getfixturevalue('webdav_server').url + '/upaths'
    else:
        url = f"simplecache::s3://{request.getfixturevalue('bucket')}/upaths"
    plain = url.replace('webdav+', '').replace('http://', 'webdav://') if kind.startswith(
        'webdav') else url
    put(from_url(plain.replace('simplecache::', '')), 'a/x.txt', b'x')
    upath = UPath(url.replace('http://', 'webdav+http://') if kind.startswith('webdav') else url)
    volume = from_url(upath)
    assert type(volume) is type(from_url(plain))
    assert volume.to_dict()['args'] == from_url(plain).to_dict()['args']
    assert files_of(volume) == {'a/x.txt': b'x'}


def test_local_volumes_take_local_filesystem_options(tmp_path):
    volume = from_url(str(tmp_path / 'v'), auto_mkdir=True)
    assert volume.fs.auto_mkdir is True
    assert volume.get_store_for_folder('sub').fs.auto_mkdir is True
    assert LocalVolume(tmp_path, storage_options={'auto_mkdir': True}).fs.auto_mkdir is True
    assert from_url(str(tmp_path / 'v')).fs.auto_mkdir is False
    assert 'auto_mkdir' not in str(volume.to_dict())


@pytest.mark.parametrize('url', ['nosuch://x', 'zip://', 'ftp://127.0.0.1:1/x', ''])
def test_bad_urls_give_volume_errors(url):
    with pytest.raises(VolumeError):
        from_url(url)
