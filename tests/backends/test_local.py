"""What is special to the local backend: the flowserv ``fs`` document, paths."""

import json
import os

from flowserv.volume.fs import FStore as FlowservFStore
from helpers import files_of, put

from flowserv_fsspec import FS_STORE, FStore, LocalVolume, Volume, from_url


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
    assert from_url('rel/dir').to_dict()['args'] == [{'key': 'basedir', 'value': 'rel/dir'}]


def test_sub_folder_volume_keeps_a_local_document(tmp_path):
    sub = LocalVolume(str(tmp_path)).get_store_for_folder('runs/r1', identifier='r1')
    assert sub.to_dict() == FStore(os.path.join(str(tmp_path), 'runs', 'r1'), 'r1')


def test_erase_removes_the_base_directory(tmp_path):
    volume = LocalVolume(str(tmp_path / 'base'))
    put(volume, 'a/b/c.txt', b'1')
    volume.erase()
    assert not (tmp_path / 'base').exists()
    assert tmp_path.exists()
