"""What is special to the local backend: the flowserv ``fs`` document, paths."""

import json
import os

import pytest
from flowserv.volume.fs import FStore as FlowservFStore

from flowserv_fsspec import FS_STORE, FStore, LocalVolume, Volume, copy_files, from_url
from flowserv_fsspec.errors import InvalidKeyError
from flowserv_fsspec.testing import files_of, put


def test_document_is_byte_identical_to_flowserv(tmp_path):
    ours, theirs = FStore(str(tmp_path), 'v1'), FlowservFStore(str(tmp_path), 'v1')
    assert json.dumps(ours) == json.dumps(theirs)
    assert FS_STORE == 'fs'


def test_flowserv_document_without_type_is_local(tmp_path):
    (tmp_path / 'a.txt').write_bytes(b'1')
    doc = {'id': 'v', 'args': [{'key': 'basedir', 'value': str(tmp_path)}]}
    volume = Volume(doc)
    assert isinstance(volume, LocalVolume)
    assert files_of(volume) == {'a.txt': b'1'}


def test_files_land_below_the_base_directory(tmp_path):
    volume = LocalVolume(str(tmp_path / 'base'))
    put(volume, 'a/b.txt', b'data')
    assert (tmp_path / 'base' / 'a' / 'b.txt').read_bytes() == b'data'


def test_constructing_a_volume_creates_nothing(tmp_path):
    LocalVolume(str(tmp_path / 'not-yet'))
    assert not (tmp_path / 'not-yet').exists()


def test_from_url_plain_path_and_file_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url in ('rel/dir', str(tmp_path / 'rel' / 'dir'), f'file://{tmp_path}/rel/dir'):
        volume = from_url(url)
        assert isinstance(volume, LocalVolume)
        assert volume.root == os.path.join(str(tmp_path), 'rel', 'dir')
    assert from_url('rel/dir').to_dict()['args'] == [
        {'key': 'basedir', 'value': str(tmp_path / 'rel' / 'dir')}
    ]


def test_sub_folder_volume_keeps_a_local_document(tmp_path):
    sub = LocalVolume(str(tmp_path)).get_store_for_folder('runs/r1', identifier='r1')
    assert sub.to_dict() == FStore(os.path.join(str(tmp_path), 'runs', 'r1'), 'r1')


def test_erase_removes_the_base_directory(tmp_path):
    volume = LocalVolume(str(tmp_path / 'base'))
    put(volume, 'a/b/c.txt', b'1')
    volume.erase()
    assert not (tmp_path / 'base').exists()
    assert tmp_path.exists()


@pytest.fixture
def linked(tmp_path):
    """A volume whose folder holds links: to a file and a folder outside it,
    and to a file inside it."""
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'secret.txt').write_bytes(b'secret')
    base = tmp_path / 'base'
    (base / 'data').mkdir(parents=True)
    (base / 'data' / 'a.txt').write_bytes(b'a')
    os.symlink(outside / 'secret.txt', base / 'data' / 'leak.txt')
    os.symlink(outside, base / 'data' / 'out')
    os.symlink(base / 'data' / 'a.txt', base / 'data' / 'alias.txt')
    return LocalVolume(str(base)), outside


def test_walk_does_not_follow_links_out_of_the_volume(linked):
    volume, _ = linked
    assert files_of(volume) == {'data/a.txt': b'a', 'data/alias.txt': b'a'}
    assert volume.query('data/') == ['data/a.txt', 'data/alias.txt']


@pytest.mark.parametrize('key', ['data/leak.txt', 'data/out/secret.txt', 'data/out'])
def test_keys_through_links_out_of_the_volume_are_rejected(linked, key):
    volume, outside = linked
    with pytest.raises(InvalidKeyError, match='symbolic link'):
        volume.load(key)
    with pytest.raises(InvalidKeyError, match='symbolic link'):
        volume.walk(key)
    with pytest.raises(InvalidKeyError, match='symbolic link'):
        put(volume, key, b'overwritten')
    with pytest.raises(InvalidKeyError, match='symbolic link'):
        volume.delete(key)
    with pytest.raises(InvalidKeyError, match='symbolic link'):
        volume.get_store_for_folder(key)
    assert (outside / 'secret.txt').read_bytes() == b'secret'
    assert sorted(p.name for p in outside.iterdir()) == ['secret.txt']


def test_erase_and_copy_leave_link_targets_alone(linked, tmp_path):
    volume, outside = linked
    copied = LocalVolume(str(tmp_path / 'copy'))
    assert copy_files(None, volume, None, copied) == ['data/a.txt', 'data/alias.txt']
    volume.delete('data')
    volume.erase()
    assert (outside / 'secret.txt').read_bytes() == b'secret'
    assert not (tmp_path / 'base').exists()
