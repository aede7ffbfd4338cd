"""What is special to the local backend: the flowserv ``fs`` document, paths."""

import json
import os
import shutil

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


def test_a_walk_while_another_process_deletes(tmp_path, monkeypatch):
    """Files and folders deleted between the listing of a folder and the
    stat of its entries are left out, not a raw FileNotFoundError."""
    volume = LocalVolume(tmp_path / 'v')
    for key in ('a.txt', 'gone.txt', 'sub/b.txt', 'sub/gone/c.txt'):
        put(volume, key, b'x')
    real = os.scandir

    class Deleting:
        def __init__(self, path):
            self.entries = list(real(path))
            for entry in self.entries:  # another process deletes, after the listing
                if entry.name == 'gone.txt':
                    os.remove(entry.path)
                elif entry.name == 'gone':
                    shutil.rmtree(entry.path)

        def __iter__(self):
            return self

        def __next__(self):
            if not self.entries:
                raise StopIteration
            return self.entries.pop(0)

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def close(self):
            pass

    monkeypatch.setattr(os, 'scandir', Deleting)
    assert [key for key, _ in volume.walk(None)] == ['a.txt', 'sub/b.txt']


def test_walks_while_another_process_creates_and_deletes(tmp_path):
    """Files come and go (another process) while the volume is walked again
    and again: no walk fails (a file listed, then gone before its size is
    read, is left out)."""
    import subprocess
    import sys
    import time
    volume = LocalVolume(tmp_path / 'v')
    for i in range(10):
        (tmp_path / 'v' / f's{i}').mkdir(parents=True)
    churn = subprocess.Popen([sys.executable, '-c', (
        'import os, sys\n'
        'while True:\n'
        '    for i in range(300):\n'
        '        path = os.path.join(sys.argv[1], f"s{i % 10}", f"f{i}")\n'
        '        open(path, "wb").close()\n'
        '        os.remove(path)\n'
    ), str(tmp_path / 'v')])
    failures, deadline = [], time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            try:
                volume.walk(None)
            except Exception as ex:  # noqa: PERF203 - counting failures is the point
                failures.append(ex)
    finally:
        churn.kill()
        churn.wait()
    assert failures == []
