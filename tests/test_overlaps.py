"""Two locations of one place are one place: sync refuses overlapping
locations and deletes spare the working folder however the URLs are
written (dot segments, repeated slashes, default ports, case, chained
URLs over local disk)."""

import pytest

from flowserv_fsspec import LocalVolume, copy_files, from_url
from flowserv_fsspec.errors import UnsafeOperationError
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.testing import files_of, put
from flowserv_fsspec.urls import place


@pytest.mark.parametrize('one, other', [
    ('sftp://h/data/.', 'sftp://h/data'),
    ('sftp://h/data/zz/..', 'sftp://h/data'),
    ('sftp://h:22/data', 'sftp://H/data/'),
    ('ssh://h/data', 'sftp://h/data'),
    ('ftp://h//data', 'ftp://h:21/data'),
    ('https://Host:443/d?token=x', 'HTTPS://host/d'),
    ('webdav://h:80/d', 'dav://h/d'),
    ('s3a://b/p', 's3://b/p'),
    ('s3://u:pw@b/p', 's3://b/p/'),
    ('simplecache::s3://b/p', 's3://b/p'),
    ('memory://x', 'memory:///x'),
    ('http://[::1]:8080/x', 'http://[::1]:8080/x/.'),
])
def test_one_place_written_two_ways(one, other):
    assert place(one) == place(other)


@pytest.mark.parametrize('one, other', [
    ('sftp://h:2222/data', 'sftp://h/data'),
    ('sftp://h/data', 'ftp://h/data'),
    ('s3://b/p', 'gs://b/p'),
    ('https://h/d', 'http://h/d'),
    ('s3://b/p1', 's3://b/p'),
])
def test_two_places(one, other):
    assert place(one) != place(other)


def test_a_chained_local_url_is_the_local_folder(tmp_path):
    (tmp_path / 'link').symlink_to(tmp_path / 'data')
    for url in (f'simplecache::file://{tmp_path}/data', f'blockcache::file://{tmp_path}/./data',
                f'dir::file://{tmp_path}/link', str(tmp_path / 'link')):
        assert place(url) == place(str(tmp_path / 'data')), url
    assert place(f'zip://d::file://{tmp_path}/a.zip').path == f'{tmp_path}/a.zip/d'


@pytest.mark.parametrize('written', ['{root}/data/.', '{root}/data/zz/..', '{root}//data'])
def test_sync_refuses_a_target_that_holds_the_source_on_sftp(sftp_server, written):
    root = f'sftp://127.0.0.1:{sftp_server.port}/overlap-{written.count("/")}-{len(written)}'
    data = from_url(f'{root}/data')
    put(data, 'sub/a.txt', b'a')
    put(data, 'b.txt', b'b')
    with pytest.raises(UnsafeOperationError, match='overlap'):
        sync_files(from_url(f'{root}/data/sub'), from_url(written.format(root=root)), delete=True)
    assert files_of(data) == {'sub/a.txt': b'a', 'b.txt': b'b'}


def test_sync_refuses_overlapping_ftp_locations(ftp_server):
    data = from_url(ftp_server.url('overlap/data'))
    put(data, 'sub/a.txt', b'a')
    put(data, 'b.txt', b'b')
    with pytest.raises(UnsafeOperationError, match='overlap'):
        sync_files(from_url(ftp_server.url('overlap/data/sub')),
                   from_url(ftp_server.url('/overlap//data')), delete=True)
    assert files_of(data) == {'sub/a.txt': b'a', 'b.txt': b'b'}


@pytest.mark.parametrize('cache', ['simplecache', 'blockcache'])
def test_sync_refuses_a_chained_url_of_the_local_target(tmp_path, cache):
    data = LocalVolume(tmp_path / 'data')
    put(data, 'sub/a.txt', b'a')
    put(data, 'b.txt', b'b')
    chained = from_url(f'{cache}::file://{tmp_path}/data')
    for source, target in ((LocalVolume(tmp_path / 'data' / 'sub'), chained),
                           (chained, LocalVolume(tmp_path / 'data' / 'sub'))):
        with pytest.raises(UnsafeOperationError, match='overlap'):
            sync_files(source, target, delete=True)
    assert files_of(data) == {'sub/a.txt': b'a', 'b.txt': b'b'}


def test_a_chained_url_never_deletes_the_working_folder(tmp_path, monkeypatch):
    put(LocalVolume(tmp_path / 'w'), 'inner/a.txt', b'a')
    monkeypatch.chdir(tmp_path / 'w' / 'inner')
    chained = from_url(f'simplecache::file://{tmp_path}/w')
    for delete in (chained.erase, lambda: chained.delete('inner'),
                   from_url(f'dir::file://{tmp_path}/w/inner').erase):
        with pytest.raises(UnsafeOperationError, match='current working folder'):
            delete()
    assert (tmp_path / 'w' / 'inner' / 'a.txt').read_bytes() == b'a'


@pytest.mark.parametrize('src, dst', [
    (None, 'copy'), ('d', 'd/copy'), ('d/e', 'd'), ('d', None),
])
def test_a_copy_into_or_over_its_own_source_is_refused_before_any_write(tmp_path, src, dst):
    """A copy lists as it writes: into its own source it would copy its
    copies again (before the refusal, 1,500 local files became 3,000), and
    over its source it would write what it has still to read."""
    volume = LocalVolume(str(tmp_path / 'vol'))
    files = {f'd/e/f{i:04d}': b'x' for i in range(1500)}
    for key, data in {**files, 'f.txt': b'f'}.items():
        put(volume, key, data)
    with pytest.raises(UnsafeOperationError, match='overlap'):
        copy_files(src, volume, dst, volume)
    same_place = LocalVolume(str(tmp_path / 'vol'))  # another volume of the same folder
    with pytest.raises(UnsafeOperationError, match='overlap'):
        copy_files(src, volume, dst, same_place)
    assert files_of(volume) == {**files, 'f.txt': b'f'}


def test_copies_beside_or_onto_their_source_are_not_refused(tmp_path):
    volume = LocalVolume(str(tmp_path / 'vol'))
    put(volume, 'd/a.txt', b'a')
    put(volume, 'f.txt', b'f')
    assert copy_files('d', volume, 'd2', volume) == ['d2/a.txt']
    assert copy_files('f.txt', volume, 'g.txt', volume) == ['g.txt']
    assert copy_files('d', volume, 'x/d', volume) == ['x/d/a.txt']
    # Onto itself (the same place, as flowserv's workers may copy): left as it is.
    same_place = LocalVolume(str(tmp_path / 'vol'))
    assert copy_files('d', volume, 'd', same_place) == ['d/a.txt']
    assert copy_files('f.txt', volume, None, volume) == ['f.txt']  # a file to its own key
    assert len(copy_files(None, volume, None, same_place)) == 5
    assert files_of(volume) == {
        'd/a.txt': b'a', 'd2/a.txt': b'a', 'f.txt': b'f', 'g.txt': b'f', 'x/d/a.txt': b'a'
    }
