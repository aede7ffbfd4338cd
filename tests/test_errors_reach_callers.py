"""Every failure that reaches a caller through a public entry point is a
``VolumeError`` (docs/concepts.md: callers only catch ``VolumeError``): each
public function and method driven with the failures that the other tests
produce one by one (bad keys, URLs, documents and options, missing files,
folders and buckets, files that vanish, read-only storage, unsafe requests),
on a memory, a local, an S3 and a read-only volume."""

import io
import zipfile
from typing import Any, Callable, Dict, List, Tuple

import pytest

from flowserv_fsspec import (
    FStore,
    IOBuffer,
    LocalVolume,
    MemoryVolume,
    S3Bucket,
    S3Volume,
    Volume,
    copy_files,
    from_url,
)
from flowserv_fsspec.cleanup import cleanup
from flowserv_fsspec.errors import VolumeError
from flowserv_fsspec.locations import open_location, split_location
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.testing import put


def data(payload: bytes = b'x') -> IOBuffer:
    return IOBuffer(io.BytesIO(payload))


@pytest.fixture
def volumes(tmp_path, bucket) -> Dict[str, Any]:
    """A memory, a local, an S3 and a read-only (zip) volume, each with a
    file 'f.txt' and a folder 'd', and an S3 volume whose bucket is missing."""
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as z:
        z.writestr('f.txt', b'zipped')
        z.writestr('d/g.txt', b'zipped')
    found = {
        'memory': from_url(f'memory://errors/{tmp_path.name}'),
        'local': LocalVolume(tmp_path / 'local'),
        's3': S3Volume(bucket, 'p'),
    }
    for volume in found.values():
        put(volume, 'f.txt', b'f')
        put(volume, 'd/g.txt', b'g')
    found['zip'] = from_url(f'zip://::file://{tmp_path}/a.zip')
    found['no-bucket'] = S3Volume('no-such-bucket-here', 'p')
    return found


def failures(volumes: Dict[str, Any], tmp_path) -> List[Tuple[str, Callable[[], Any]]]:
    """Calls of public entry points that fail, named."""
    calls: List[Tuple[str, Callable[[], Any]]] = [
        ('from_url empty', lambda: from_url('')),
        ('from_url not a string', lambda: from_url(42)),  # type: ignore[arg-type]
        ('from_url unknown protocol', lambda: from_url('nosuch://x')),
        ('from_url unknown chained protocol', lambda: from_url('nosuch::memory://x')),
        ('from_url unreachable ftp', lambda: from_url('ftp://127.0.0.1:1/x')),
        ('from_url zip without archive', lambda: from_url('zip://')),
        ('from_url bad S3 option', lambda: from_url('s3://b/p', part_size=1)),
        ('from_url bad timeout', lambda: from_url('sftp://127.0.0.1/x', timeout=-1)),
        ('Volume not a dict', lambda: Volume('s3')),  # type: ignore[arg-type]
        ('Volume unknown type', lambda: Volume({'type': 'nosuch'})),
        ('Volume missing args', lambda: Volume({'type': 's3', 'args': []})),
        ('Volume bad args', lambda: Volume({'type': 'fs', 'args': 'basedir'})),
        ('Volume zip without archive', lambda: Volume(volumes['zip'].to_dict() | {
            'args': [{'key': 'url', 'value': 'zip://'}]})),
        ('Volume of S3Bucket wrong type', lambda: Volume(S3Bucket(42))),  # type: ignore[arg-type]
        ('LocalVolume no path', lambda: LocalVolume('')),
        ('Volume of FStore no path', lambda: Volume(FStore(''))),
        ('missing bucket walk', lambda: volumes['no-bucket'].walk(None)),
        ('missing bucket store', lambda: volumes['no-bucket'].store(data(), 'x')),
        ('missing bucket load', lambda: volumes['no-bucket'].load('x')),
        ('missing bucket erase', lambda: volumes['no-bucket'].erase()),
        ('missing bucket delete', lambda: volumes['no-bucket'].delete('x')),
        ('sync from a missing source', lambda: sync_files(
            volumes['memory'].get_store_for_folder('nothing'), volumes['local'])),
        ('sync into itself', lambda: sync_files(volumes['memory'], volumes['memory'])),
        ('sync --delete from empty', lambda: sync_files(
            MemoryVolume.from_url(f'memory://empty/{tmp_path.name}').get_store_for_folder('e'),
            volumes['local'], delete=True)),
        ('open_location missing document', lambda: open_location(f'@{tmp_path}/none.json')),
        ('open_location bad document', lambda: open_location(f'@{bad_document(tmp_path)}')),
        ('split_location bad URL', lambda: split_location('nosuch://x/y')),
        ('cleanup missing bucket', lambda: cleanup(volumes['no-bucket'], older_than=0)),
        # Memory, local disk and SFTP keep a deleted file readable while it is open.
        ('s3 stream vanished', lambda: read_while_deleted(volumes['s3'])),
        ('read-only store', lambda: volumes['zip'].store(data(), 'new.txt')),
        ('read-only delete', lambda: volumes['zip'].delete('f.txt')),
        ('read-only copy into', lambda: copy_files(
            'f.txt', volumes['memory'], None, volumes['zip'])),
    ]
    for name, volume in volumes.items():
        if name == 'no-bucket':
            continue
        fs = volume.as_filesystem()
        calls += [
            (f'{name} load missing', lambda v=volume: v.load('missing.txt')),
            (f'{name} load folder', lambda v=volume: v.load('d')),
            (f'{name} load bad key', lambda v=volume: v.load('../x')),
            (f'{name} load not a key', lambda v=volume: v.load(42)),
            (f'{name} store bad key', lambda v=volume: v.store(data(), 'a//b')),
            (f'{name} store below a file', lambda v=volume: v.store(data(), 'f.txt/x')),
            (f'{name} delete bad key', lambda v=volume: v.delete('/abs')),
            (f'{name} walk bad key', lambda v=volume: v.walk('..')),
            (f'{name} mkdir bad key', lambda v=volume: v.mkdir('a/./b')),
            (f'{name} query bad key', lambda v=volume: v.query('a\\b')),
            (f'{name} folder bad key', lambda v=volume: v.get_store_for_folder('')),
            (f'{name} key_type bad key', lambda v=volume: v.key_type('a//')),
            (f'{name} copy onto a file folder', lambda v=volume: v.copy('d', v, 'f.txt')),
            (f'{name} copy two onto one', lambda v=volume: v.copy(['f.txt', 'd/g.txt'], v, 'x')),
        ]
        if name != 'zip':  # read-only: nothing vanishes
            calls += [
                (f'{name} open vanished', lambda v=volume: vanished(v).open()),
                (f'{name} size vanished', lambda v=volume: vanished(v, size=False).size()),
            ]
        calls += [
            (f'{name} filesystem escape', lambda fs=fs: fs.cat_file('../x')),
            (f'{name} filesystem bad key', lambda fs=fs: fs.open('a//b')),
        ]
    return calls


def read_while_deleted(volume) -> None:
    """Read a stream of a file that is deleted after the first block."""
    put(volume, 'big.bin', b'x' * (3 * 1024 * 1024))
    stream = volume.load('big.bin').stream(block_size=1024 * 1024)
    stream.read(10)
    volume.delete('big.bin')
    stream.read(2 * 1024 * 1024)


def bad_document(tmp_path) -> str:
    """A document file that is no JSON."""
    (tmp_path / 'bad.json').write_text('{not json')
    return str(tmp_path / 'bad.json')


def vanished(volume, size: bool = True):
    """A handle of a file that was deleted after it was loaded (or listed,
    without its size)."""
    put(volume, 'gone.txt', b'soon gone')
    handle = volume.load('gone.txt')
    if not size:
        handle._size = None  # the size is asked of the storage, not the listing
    volume.delete('gone.txt')
    return handle


def test_every_failure_is_a_volume_error(volumes, tmp_path):
    escaped, typed, allowed = [], [], []
    for name, call in failures(volumes, tmp_path):
        try:
            call()
        except VolumeError as ex:
            typed.append(name)
            assert str(ex)
        except Exception as ex:  # noqa: BLE001 - the point of the test
            escaped.append(f'{name}: {type(ex).__module__}.{type(ex).__name__}: {ex}')
        else:
            allowed.append(name)
    assert escaped == []
    # Object stores hold a file beside a folder of the same name; nothing else passes.
    assert sorted(allowed) == ['s3 copy onto a file folder', 's3 store below a file']
