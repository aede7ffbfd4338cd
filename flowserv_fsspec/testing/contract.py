"""The storage-volume contract as a test suite: :class:`VolumeContract`.

Every test uses one fixture, ``volume``: a fresh, empty volume, which the
subclass defines. The tests need only the contract (``StorageVolume``'s
methods) and a document type known to :func:`flowserv_fsspec.Volume` (a
plugin registers its own); tests that also need a second client of the same
storage stay in each project's own suite.
"""

import io
from typing import Any

import pytest

from flowserv_fsspec.errors import InvalidKeyError, UnknownFileError
from flowserv_fsspec.handles import IOBuffer
from flowserv_fsspec.registry import Volume
from flowserv_fsspec.testing.helpers import files_of, put
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import ObjectWrites


SIBLINGS = ['d0/a.txt', 'd0/sub/b.txt', 'd0.txt'] + [f'd0{i}/x.txt' for i in range(10)]

BAD_KEYS = [
    '/etc/passwd', '../escape.txt', 'a/../../escape.txt', 'a/./b', 'a//b',
    'a\\..\\b', 'nul\x00byte', 'tab\tkey',
]

LITERAL = {
    'a%20b.txt': b'percent', 'a b.txt': b'space', 'a': b'plain', 'x%2Fy': b'encoded slash',
    'h#1.txt': b'hash', 'd/p%3Bq': b'nested',
}


class VolumeContract:
    """The contract of :class:`flowserv_fsspec.base.StorageVolume` as tests.

    Subclass it in a test module (the subclass's name starts with ``Test``)
    and define the fixture ``volume``, which gives a fresh, empty volume.
    """

    @staticmethod
    def has_folders(volume: Any) -> bool:
        """Whether the volume's storage has real folders (object stores do not);
        a subclass for another kind of volume without folders overrides it.
        """
        return not (isinstance(volume, FsspecVolume) and isinstance(volume.writes, ObjectWrites))

    def test_store_and_load_roundtrip(self, volume):
        put(volume, 'a/b/c.txt', b'hello world')
        handle = volume.load('a/b/c.txt')
        assert handle.size() == 11
        with handle.open() as f:
            assert f.read(5) == b'hello'
            assert f.read() == b' world'

    def test_store_replaces_existing_file(self, volume):
        put(volume, 'f.txt', b'first version, longer')
        put(volume, 'f.txt', b'second')
        assert files_of(volume) == {'f.txt': b'second'}

    def test_store_streams_a_foreign_handle(self, volume):
        data = bytes(range(256)) * 9000
        volume.store(IOBuffer(io.BytesIO(data)), 'big.bin')
        assert volume.load('big.bin').size() == len(data)
        with volume.load('big.bin').open() as f:
            assert f.read() == data

    def test_store_over_an_empty_folder_replaces_it(self, volume):
        volume.mkdir('d00')
        put(volume, 'd00/a', b'1')
        volume.delete('d00/a')
        put(volume, 'd00', b'file now')
        assert files_of(volume) == {'d00': b'file now'}

    def test_store_over_a_folder_with_files(self, volume):
        """File systems refuse it; object stores keep the object beside the prefix
        (checking would cost a listing per upload).
        """
        put(volume, 'd/a', b'1')
        if self.has_folders(volume):
            with pytest.raises(InvalidKeyError):
                put(volume, 'd', b'2')
            assert files_of(volume) == {'d/a': b'1'}
        else:
            put(volume, 'd', b'2')
            assert files_of(volume) == {'d': b'2', 'd/a': b'1'}

    def test_handle_open_positions_at_start_each_time(self, volume):
        put(volume, 'f.txt', b'abc')
        handle = volume.load('f.txt')
        for _ in range(2):
            with handle.open() as f:
                assert f.read() == b'abc'

    @pytest.mark.parametrize('key', ['missing.txt', 'no/such/file'])
    def test_load_missing_file_names_the_key(self, volume, key):
        with pytest.raises(UnknownFileError) as ex:
            volume.load(key)
        assert repr(key) in str(ex.value)

    def test_load_of_a_folder_is_unknown_file(self, volume):
        put(volume, 'folder/f.txt', b'x')
        with pytest.raises(UnknownFileError):
            volume.load('folder')

    def test_handle_of_deleted_file_raises_unknown_file(self, volume):
        put(volume, 'f.txt', b'x')
        handle = volume.load('f.txt')
        volume.delete('f.txt')
        with pytest.raises(UnknownFileError):
            handle.open()

    def test_walk_whole_volume_gives_relative_sorted_keys(self, volume):
        for key in ['b.txt', 'a/x.txt', 'a/y/z.txt']:
            put(volume, key, key.encode())
        for src in (None, ''):
            assert [key for key, _ in volume.walk(src)] == ['a/x.txt', 'a/y/z.txt', 'b.txt']

    def test_walk_and_its_stream_follow_the_keys_order_across_folders(self, volume):
        """Names with characters before '/' ('-', '.', ' ') sort before a folder
        of the same stem: a listing folder by folder must still give key order
        (a sync that merges two sorted listings depends on it).
        """
        keys = ['a b.txt', 'a-1', 'a.txt', 'a/b', 'a/c d/e', 'a/c-d', 'a/c/d', 'a0', 'b']
        for key in reversed(keys):
            put(volume, key, key.encode())
        assert [key for key, _ in volume.walk(None)] == keys
        assert [key for key, _ in volume.iter_walk(None)] == keys
        assert [key for key, _ in volume.iter_walk('a')] == ['a/b', 'a/c d/e', 'a/c-d', 'a/c/d']
        assert [file.open().read() for _, file in volume.iter_walk('a/c')] == [b'a/c/d']

    def test_walk_folder_gives_files_below_it_only(self, volume):
        for key in ['a/x.txt', 'a/y/z.txt', 'ab.txt', 'a.txt']:
            put(volume, key, b'1')
        assert [key for key, _ in volume.walk('a')] == ['a/x.txt', 'a/y/z.txt']
        assert [key for key, _ in volume.walk('a/')] == ['a/x.txt', 'a/y/z.txt']

    def test_walk_single_file_gives_its_key(self, volume):
        put(volume, 'a/x.txt', b'12345')
        files = volume.walk('a/x.txt')
        assert [key for key, _ in files] == ['a/x.txt']
        assert files[0][1].size() == 5

    def test_walk_missing_path_is_empty(self, volume):
        assert volume.walk('nothing/here') == []
        assert volume.walk(None) == []

    def test_walk_handles_carry_sizes_and_contents(self, volume):
        contents = {f'f{i}.bin': bytes([i]) * (i * 100) for i in range(5)}
        for key, data in contents.items():
            put(volume, key, data)
        sizes = {key: handle.size() for key, handle in volume.walk(None)}
        assert sizes == {key: len(data) for key, data in contents.items()}
        assert files_of(volume) == contents

    def test_delete_file(self, volume):
        put(volume, 'a.txt', b'1')
        put(volume, 'b.txt', b'2')
        volume.delete('a.txt')
        assert list(files_of(volume)) == ['b.txt']

    def test_delete_folder_never_touches_prefix_siblings(self, volume):
        for key in SIBLINGS:
            put(volume, key, b'x')
        volume.delete('d0')
        assert sorted(files_of(volume)) == sorted(k for k in SIBLINGS if not k.startswith('d0/'))

    def test_delete_file_never_touches_prefix_siblings(self, volume):
        for key in ['a', 'ab.txt', 'a1/x', 'a.txt']:
            put(volume, key, b'x')
        volume.delete('a')
        assert sorted(files_of(volume)) == ['a.txt', 'a1/x', 'ab.txt']

    def test_delete_missing_key_is_a_no_op(self, volume):
        put(volume, 'keep.txt', b'1')
        volume.delete('missing.txt')
        volume.delete('missing/folder')
        volume.delete('keep.txt/below/a/file')
        assert list(files_of(volume)) == ['keep.txt']
        with pytest.raises(UnknownFileError):
            volume.load('keep.txt/below')

    def test_erase_removes_everything_and_volume_stays_usable(self, volume):
        for key in SIBLINGS:
            put(volume, key, b'x')
        volume.erase()
        assert volume.walk(None) == []
        put(volume, 'again.txt', b'1')
        assert list(files_of(volume)) == ['again.txt']

    def test_get_store_for_folder_is_rooted_below(self, volume):
        put(volume, 'runs/r1/out.txt', b'1')
        put(volume, 'runs/r10/out.txt', b'2')
        sub = volume.get_store_for_folder('runs/r1', identifier='r1')
        assert type(sub) is type(volume)
        assert sub.identifier == 'r1'
        assert list(files_of(sub)) == ['out.txt']
        put(sub, 'new/file.txt', b'3')
        assert volume.load('runs/r1/new/file.txt').size() == 1
        sub.erase()
        assert sorted(files_of(volume)) == ['runs/r10/out.txt']

    def test_mkdir_is_idempotent_and_adds_no_files(self, volume):
        volume.mkdir('a/b/c')
        volume.mkdir('a/b/c')
        assert volume.walk(None) == []
        put(volume, 'a/b/c/f.txt', b'1')
        assert list(files_of(volume)) == ['a/b/c/f.txt']

    def test_query_returns_relative_keys_with_the_prefix(self, volume):
        for key in SIBLINGS:
            put(volume, key, b'x')
        assert sorted(volume.query('d0/')) == ['d0/a.txt', 'd0/sub/b.txt']
        assert sorted(volume.query('d01')) == ['d01/x.txt']
        assert sorted(volume.query('d0/s')) == ['d0/sub/b.txt']
        assert sorted(volume.query('')) == sorted(SIBLINGS)
        assert list(volume.query('zzz')) == []

    @pytest.mark.parametrize('op', ['load', 'delete', 'store', 'mkdir', 'get_store_for_folder'])
    def test_empty_key_is_rejected_where_a_file_or_folder_is_meant(self, volume, op):
        put(volume, 'keep.txt', b'1')
        args = (IOBuffer(io.BytesIO(b'x')), '') if op == 'store' else ('',)
        with pytest.raises(InvalidKeyError):
            getattr(volume, op)(*args)
        assert list(files_of(volume)) == ['keep.txt']

    def test_document_round_trip(self, volume):
        put(volume, 'a/b.txt', b'data')
        doc = volume.to_dict()
        again = Volume(doc)
        assert type(again) is type(volume)
        assert again.identifier == volume.identifier
        assert again.to_dict() == doc
        assert type(volume).from_dict(doc).to_dict() == doc
        assert files_of(again) == {'a/b.txt': b'data'}

    def test_keys_are_sent_literally(self, volume):
        """Percent signs, semicolons and hashes name exactly the key they spell:
        each file is stored, listed, loaded and deleted alone.
        """
        for key, data in LITERAL.items():
            put(volume, key, data)
        assert files_of(volume) == LITERAL
        for key, data in LITERAL.items():
            with volume.load(key).open() as f:
                assert f.read() == data
            assert volume.walk(key)[0][0] == key
        left = dict(LITERAL)
        for key in LITERAL:
            volume.delete(key)
            del left[key]
            assert files_of(volume) == left

    def test_a_key_naming_a_file_and_a_folder(self, volume):
        """Object stores hold ``k`` beside ``k/a``: walk lists both and delete
        removes both. Filesystems with folders refuse the file (see above).
        """
        put(volume, 'k/a', b'below')
        put(volume, 'k0', b'sibling')
        if self.has_folders(volume):
            with pytest.raises(InvalidKeyError):
                put(volume, 'k', b'file')
            return
        put(volume, 'k', b'file')
        assert [key for key, _ in volume.walk('k')] == ['k', 'k/a']
        assert volume.key_type('k') == 'file'
        volume.delete('k')
        assert files_of(volume) == {'k0': b'sibling'}

    def test_key_type(self, volume):
        put(volume, 'd/f.txt', b'x')
        assert volume.key_type('d/f.txt') == 'file'
        assert volume.key_type('d') == 'folder'
        assert volume.key_type('') == 'folder'
        assert volume.key_type('missing') is None
        assert volume.key_type('d/f') is None
        if self.has_folders(volume):
            volume.mkdir('empty')
            assert volume.key_type('empty') == 'folder'

    def test_temporary_names_are_not_keys(self, volume):
        """Names shaped like the temporary files of writes are refused, so a
        user's file can never be hidden from walk (and so from copies).
        """
        with pytest.raises(InvalidKeyError, match='temporary'):
            put(volume, 'd/.f.txt.0123456789ab.part', b'x')
        put(volume, 'd/.f.txt.part', b'y')
        assert files_of(volume) == {'d/.f.txt.part': b'y'}

    def test_one_buffer_can_be_stored_twice(self, volume):
        buf = IOBuffer(io.BytesIO(b'twice'))
        volume.store(buf, 'a.txt')
        volume.store(buf, 'b.txt')
        assert files_of(volume) == {'a.txt': b'twice', 'b.txt': b'twice'}

    def test_copy_onto_itself_is_a_no_op(self, volume):
        put(volume, 'f.txt', b'same')
        put(volume, 'd/g.txt', b'folder')
        assert volume.copy('f.txt', volume, 'f.txt') == ['f.txt']
        assert volume.copy('d', volume, 'd') == ['d/g.txt']
        assert files_of(volume) == {'f.txt': b'same', 'd/g.txt': b'folder'}

    def test_open_gives_a_bytesio_and_stream_a_file(self, volume):
        """Flowserv's code reads handles through ``open()`` as ``io.BytesIO``
        (``getbuffer()``, ``isinstance`` checks); ``stream()`` reads in blocks.
        """
        put(volume, 'd/f.txt', b'contents')
        for handle in (volume.load('d/f.txt'), volume.walk('d')[0][1]):
            buf = handle.open()
            assert isinstance(buf, io.BytesIO) and buf.getbuffer().nbytes == 8
            assert buf.read() == b'contents'
            with handle.stream() as f:
                assert f.read(3) == b'con' and f.read() == b'tents'
