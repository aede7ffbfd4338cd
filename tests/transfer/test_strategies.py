"""Which transfer path copy_files takes, judged by requests and bytes on the
moto server (not by time), the progress callback, and equal results."""

import io

import pytest
from fsspec.callbacks import Callback

from flowserv_fsspec import FsspecVolume, IOBuffer, S3Volume, copy_files
from flowserv_fsspec import transfer as transfer_module
from flowserv_fsspec.errors import InvalidKeyError, TransferError
from flowserv_fsspec.testing import files_of, put


RUN = {f'out/f{i:02d}.txt': bytes([i]) * (100 + i) for i in range(30)}


class Totals(Callback):
    def __init__(self):
        super().__init__()
        self.updates = []

    def relative_update(self, inc=1):
        self.updates.append(inc)
        super().relative_update(inc)


def fill(volume, contents=RUN):
    for key, data in contents.items():
        put(volume, key, data)


def test_same_bucket_copy_is_server_side(bucket, s3_server):
    source, target = S3Volume(bucket, 'runs/a'), S3Volume(bucket, 'archive/a')
    fill(source)
    s3_server.counter.reset()
    copied = copy_files(None, source, None, target)
    counts = s3_server.counter.snapshot()
    assert copied == sorted(RUN)
    assert counts['bytes_in'] == 0 and counts['bytes_out'] < 20_000  # listings only
    # one listing, then one CopyObject (a PUT without body) per file, no HEAD
    assert counts['methods'] == {'GET': 1, 'PUT': len(RUN)}
    assert files_of(target) == RUN


def test_copy_between_buckets_of_one_server_is_server_side(s3_server):
    one, two = s3_server.create_buckets('src-bucket-ss', 'dst-bucket-ss')
    source, target = S3Volume(one), S3Volume(two, 'in')
    fill(source)
    s3_server.counter.reset()
    copy_files('out', source, 'x', target)
    assert s3_server.counter.bytes_in == 0
    assert files_of(target) == {'x/' + k[len('out/'):]: v for k, v in RUN.items()}


def test_cross_backend_small_files_move_in_bulk_batches(bucket, s3_server, make_volume):
    source, target = make_volume('memory'), S3Volume(bucket, 'bulk')
    fill(source)
    s3_server.counter.reset()
    copy_files(None, source, None, target)
    assert s3_server.counter.snapshot()['methods'] == {'PUT': len(RUN)}
    assert files_of(target) == RUN


def test_download_reads_each_small_file_with_one_request(bucket, s3_server, make_volume):
    source, target = S3Volume(bucket, 'down'), make_volume('local')
    fill(source)
    put(source, 'empty.txt', b'')
    s3_server.counter.reset()
    copy_files(None, source, None, target)
    # One listing, one GET per file (its answer also tells the time the copy
    # keeps); the empty file is not read: one HEAD tells its time.
    assert s3_server.counter.snapshot()['methods'] == {'GET': 1 + len(RUN), 'HEAD': 1}
    assert files_of(target) == dict(RUN, **{'empty.txt': b''})


def test_large_files_are_streamed_in_parts(bucket, s3_server, make_volume, monkeypatch):
    monkeypatch.setattr(transfer_module, 'BULK_FILE_LIMIT', 1000)
    source, target = make_volume('local'), S3Volume(bucket, 'big')
    big = bytes(range(256)) * (80 * 1024)  # 20 MiB: three parts of 8 MiB at most
    put(source, 'big.bin', big)
    put(source, 'small.txt', b'tiny')
    s3_server.counter.reset()
    copy_files(None, source, None, target)
    methods = s3_server.counter.snapshot()['methods']
    assert methods.get('POST', 0) == 2  # initiate + complete multipart upload
    assert methods.get('PUT', 0) == 3 + 1  # three parts + the small file
    assert files_of(target) == {'big.bin': big, 'small.txt': b'tiny'}


def test_foreign_source_is_streamed_through_store(make_volume):
    class Foreign:
        """A volume that only follows the contract (like flowserv's own)."""

        def describe(self):
            return 'foreign'

        def walk(self, src):
            return [('a.txt', IOBuffer(io.BytesIO(b'abc')))]

    target = make_volume('memory')
    assert copy_files('a.txt', Foreign(), 'b.txt', target) == ['b.txt']
    assert files_of(target) == {'b.txt': b'abc'}


@pytest.mark.parametrize('pair', [('s3', 's3'), ('memory', 'local'), ('local', 's3')])
def test_callback_gets_total_and_every_file(make_volume, pair):
    source, target = (make_volume(name) for name in pair)
    fill(source)
    callback = Totals()
    copy_files(None, source, None, target, callback=callback)
    total = sum(len(v) for v in RUN.values())
    assert callback.size == total and callback.value == total
    assert sum(callback.updates) == total


def test_batched_copy_equals_one_by_one(make_volume, monkeypatch):
    source = make_volume('memory')
    fill(source)
    batched, single = make_volume('local'), make_volume('local')
    monkeypatch.setattr(transfer_module, 'BULK_BATCH_FILES', 7)
    keys_batched = copy_files(None, source, 'd', batched)
    monkeypatch.setattr(transfer_module, 'BULK_FILE_LIMIT', -1)  # everything streamed
    keys_single = copy_files(None, source, 'd', single)
    assert keys_batched == keys_single == [f'd/{k}' for k in sorted(RUN)]
    assert files_of(batched) == files_of(single)


def test_bad_destination_key_copies_nothing(make_volume):
    source, target = make_volume('memory'), make_volume('s3')
    fill(source, {'a.txt': b'1'})
    with pytest.raises(InvalidKeyError) as ex:
        copy_files('a.txt', source, '../escape.txt', target)
    assert "'../escape.txt'" in str(ex.value)
    assert files_of(target) == {}


def test_same_volume_class_on_other_filesystem_is_not_server_side(make_volume, monkeypatch):
    one, two = make_volume('memory'), make_volume('local')
    fill(one, {'a.txt': b'1'})
    server_side = list()
    real = transfer_module.copy_server_side
    monkeypatch.setattr(transfer_module, 'copy_server_side', lambda pairs, target, progress: (
        server_side.append(target), real(pairs, target, progress)
    ))
    copy_files('a.txt', one, None, two)
    assert server_side == [] and files_of(two) == {'a.txt': b'1'}
    elsewhere = FsspecVolume(one.fs, one.root + '-elsewhere')
    copy_files('a.txt', one, None, elsewhere)
    assert server_side == [elsewhere] and files_of(elsewhere) == {'a.txt': b'1'}


@pytest.mark.parametrize('backend', ['local'])
def test_failed_server_side_copy_leaves_no_partial_file(make_volume, monkeypatch, backend):
    """A copy within one filesystem with folders that breaks while writing
    keeps the previous file and leaves no partial one or temporary file.
    (Memory volumes copy with one assignment, which cannot break part way.)"""
    source = make_volume(backend)
    target = source.get_store_for_folder('copy')
    fill(source, {'a.txt': b'new-a', 'b.txt': b'new-b'})
    put(target, 'b.txt', b'old-b')
    fs_class = type(source.fs)
    cp_file = fs_class.cp_file

    def breaking(self, path1, path2, **kwargs):
        if path1.endswith('/b.txt'):
            with self.open(path2, 'wb') as out:
                out.write(b'ne')
            raise OSError('disk full')
        return cp_file(self, path1, path2, **kwargs)

    monkeypatch.setattr(fs_class, 'cp_file', breaking)
    with pytest.raises(TransferError) as info:
        copy_files(['a.txt', 'b.txt'], source, None, target)
    assert (info.value.done, info.value.pending) == (['a.txt'], ['b.txt'])
    assert files_of(target) == {'a.txt': b'new-a', 'b.txt': b'old-b'}
    assert source.fs.find(target.root) == sorted(
        f'{target.root}/{name}' for name in ('a.txt', 'b.txt')
    )
