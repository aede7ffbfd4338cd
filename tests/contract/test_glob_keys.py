"""Keys with glob characters (``* ? [ ]``) name exactly one file on every
backend: store, load, copy, sync and delete never touch the file that the
key would match as a pattern (fsspec's ``rm``, ``mv``, ``copy`` and ``cat``
expand patterns; volumes never call them)."""

import uuid
from typing import Dict

import fsspec
import pytest
from fsspec import AbstractFileSystem

from flowserv_fsspec import FsspecVolume, MemoryVolume, WebdavVolume
from flowserv_fsspec.errors import InvalidKeyError
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.testing import files_of, put


NEIGHBOURS = {
    'data[1].csv': 'data1.csv', 'a*b.txt': 'axb.txt', 'q?.txt': 'qx.txt',
    '[ab]/x.txt': 'a/x.txt', 'run*/log.txt': 'run1/log.txt',
}
"""Each key with glob characters, and a key that it matches as a pattern."""


def writable(volume, key: str) -> bool:
    """WebDAV volumes refuse to write '?' (servers cut MOVE destinations there)."""
    return not (isinstance(volume, WebdavVolume) and '?' in key)


def contents(keys) -> Dict[str, bytes]:
    return {key: f'contents of {key}'.encode() for key in keys}


def seed(volume, outside, files: Dict[str, bytes]) -> None:
    """Write files through the volume, or through another client where the
    volume refuses the name."""
    root_name = volume.root.rsplit('/', 1)[1]
    for key, data in files.items():
        if writable(volume, key):
            put(volume, key, data)
        else:
            outside(f'{root_name}/{key}', data)


def memory_volume() -> MemoryVolume:
    return MemoryVolume(fsspec.filesystem('memory'), root=f'/globs/{uuid.uuid4().hex}')


def test_glob_keys_name_one_file(volume, outside):
    everything = contents(list(NEIGHBOURS) + list(NEIGHBOURS.values()))
    seed(volume, outside, everything)
    assert files_of(volume) == everything
    for key, data in everything.items():
        with volume.load(key).open() as f:
            assert f.read() == data
        assert [k for k, _ in volume.walk(key)] == [key]
        assert volume.key_type(key) == 'file'
    left = dict(everything)
    for key in ('data[1].csv', 'a*b.txt', 'q?.txt', '[ab]', 'run*'):
        volume.delete(key)
        left = {k: v for k, v in left.items() if k != key and not k.startswith(key + '/')}
        assert files_of(volume) == left
    assert sorted(left) == sorted(NEIGHBOURS.values())


def test_plain_keys_never_match_glob_files(volume, outside):
    """The other way round: the plain names are deleted, the glob names stay."""
    everything = contents(list(NEIGHBOURS) + list(NEIGHBOURS.values()))
    seed(volume, outside, everything)
    for key in ('data1.csv', 'axb.txt', 'qx.txt', 'a', 'run1'):
        volume.delete(key)
    assert files_of(volume) == contents(NEIGHBOURS)


def test_glob_keys_copy_within_and_between_volumes(volume, outside):
    everything = contents(list(NEIGHBOURS) + list(NEIGHBOURS.values()))
    seed(volume, outside, everything)
    # Within the volume (server-side), a file and a folder.
    assert volume.copy('data[1].csv', volume, 'copies/data[1].csv') == ['copies/data[1].csv']
    assert volume.copy('[ab]', volume, 'c[d]') == ['c[d]/x.txt']
    assert volume.load('copies/data[1].csv').open().read() == everything['data[1].csv']
    assert volume.load('c[d]/x.txt').open().read() == everything['[ab]/x.txt']
    # Out of the volume (bulk reads) and back in (bulk writes).
    other = memory_volume()
    assert sorted(volume.copy(list(everything), other)) == sorted(everything)
    assert files_of(other) == everything
    volume.erase()
    back = {key: data for key, data in everything.items() if writable(volume, key)}
    assert sorted(other.copy(list(back), volume)) == sorted(back)
    assert files_of(volume) == back


def test_sync_with_glob_keys(volume, outside):
    everything = contents(list(NEIGHBOURS) + list(NEIGHBOURS.values()))
    seed(volume, outside, everything)
    # A source of only the plain names: sync --delete removes the glob names.
    plain = memory_volume()
    for key in NEIGHBOURS.values():
        put(plain, key, everything[key])
    result = sync_files(plain, volume, delete=True)
    assert sorted(result.deleted) == sorted(NEIGHBOURS)
    assert files_of(volume) == contents(NEIGHBOURS.values())
    # A source of only the glob names, changed: written, and the plain names deleted.
    globs = memory_volume()
    changed = {key: b'new ' + data for key, data in contents(NEIGHBOURS).items()}
    for key, data in changed.items():
        put(globs, key, data)
    if not writable(volume, 'q?.txt'):
        globs.delete('q?.txt')
        del changed['q?.txt']
    result = sync_files(globs, volume, delete=True)
    assert sorted(result.copied) == sorted(changed)
    assert files_of(volume) == changed


def test_webdav_refuses_to_write_a_question_mark(make_volume):
    volume = make_volume('webdav')
    put(volume, 'qx.txt', b'keep')
    with pytest.raises(InvalidKeyError, match=r"'q\?\.txt'"):
        put(volume, 'q?.txt', b'would overwrite q')
    assert files_of(volume) == {'qx.txt': b'keep'}


def test_filesystems_without_their_own_mv_rename_literally():
    """fsspec's default ``mv`` (copy, then rm) expands patterns; the generic
    volume's rename copies and deletes the one temporary file instead."""
    volume = FsspecVolume(fsspec.filesystem('memory'), root=f'/mv/{uuid.uuid4().hex}')
    assert volume.fs.mv.__func__ is AbstractFileSystem.mv
    put(volume, 'data1.csv', b'plain')
    put(volume, 'data[1].csv', b'glob')
    put(volume, 'data[1].csv', b'glob, replaced')
    assert files_of(volume) == {'data1.csv': b'plain', 'data[1].csv': b'glob, replaced'}
    assert [path for path in volume.fs.find(volume.root) if path.endswith('.part')] == []
