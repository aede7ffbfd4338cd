"""Paths to data loss found by an adversarial pass, each closed: syncs that
would empty or nest their target, copies torn by a concurrent writer, two
sources for one key, missing buckets on every copy path, hangs against a
silent server, tracebacks instead of typed errors, leftovers of killed
writes, and the per-file cost of memory stores. (Literal keys, keys naming a
file and a folder, temporary names, self-copies and re-stored buffers are in
the contract suite, on every backend.)
"""

import os
import sys
import threading
import time

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from flowserv_fsspec import (
    AzureVolume,
    FsspecVolume,
    LocalVolume,
    MemoryVolume,
    S3Volume,
    SftpVolume,
    Volume,
    WebdavVolume,
    copy_files,
    from_url,
)
from flowserv_fsspec.base import copy_planned, ends
from flowserv_fsspec.cleanup import cleanup
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    StorageError,
    UnsafeOperationError,
    VolumeNotFoundError,
)
from flowserv_fsspec.keys import temp_path
from flowserv_fsspec.plan import planned
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.testing import files_of, put
from flowserv_fsspec.testing.azurite_server import connection_string
from flowserv_fsspec.testing.silent_server import SilentServer
from flowserv_fsspec.transfer import BULK_FILE_LIMIT


# -- 1, 6: sync ------------------------------------------------------------------

@pytest.fixture
def target(tmp_path):
    volume = LocalVolume(tmp_path / 'target')
    put(volume, 'keep.txt', b'precious')
    return volume


def test_sync_refuses_a_missing_source(tmp_path, target):
    with pytest.raises(VolumeNotFoundError, match='typo'):
        sync_files(LocalVolume(tmp_path / 'typo'), target, delete=True)
    assert files_of(target) == {'keep.txt': b'precious'}


def test_sync_refuses_a_file_as_source(tmp_path, target):
    (tmp_path / 'a.txt').write_bytes(b'file')
    with pytest.raises(UnsafeOperationError, match='the source is a file'):
        sync_files(LocalVolume(tmp_path / 'a.txt'), target, delete=True)
    assert files_of(target) == {'keep.txt': b'precious'}


def test_sync_refuses_an_empty_s3_prefix(bucket, target):
    """An S3 prefix without objects does not exist: nothing to sync from."""
    with pytest.raises(VolumeNotFoundError, match='nothing-here'):
        sync_files(S3Volume(bucket, 'nothing-here'), target, delete=True)
    assert files_of(target) == {'keep.txt': b'precious'}


def test_sync_delete_from_an_empty_folder_needs_the_flag(tmp_path, target):
    (tmp_path / 'empty').mkdir()
    empty = LocalVolume(tmp_path / 'empty')
    with pytest.raises(UnsafeOperationError, match='source is empty'):
        sync_files(empty, target, delete=True)
    assert files_of(target) == {'keep.txt': b'precious'}
    result = sync_files(empty, target, delete=True, allow_empty_source=True)
    assert result.deleted == ['keep.txt'] and files_of(target) == {}


def test_sync_max_delete_refuses_before_any_write(tmp_path, target):
    source = LocalVolume(tmp_path / 'source')
    put(source, 'new.txt', b'new')
    put(target, 'old.txt', b'old')
    with pytest.raises(UnsafeOperationError, match='delete 2 files, more than the maximum of 1'):
        sync_files(source, target, delete=True, max_delete=1)
    assert files_of(target) == {'keep.txt': b'precious', 'old.txt': b'old'}
    sync_files(source, target, delete=True, max_delete=2)
    assert files_of(target) == {'new.txt': b'new'}


@pytest.mark.parametrize('backend', ['local', 's3', 'memory'])
def test_sync_refuses_overlapping_source_and_target(tmp_path, bucket, backend):
    """``p/child -> p`` would delete the source; ``q -> q/m`` nests one level
    deeper on every run. Volumes built separately are compared by URL."""
    def at(path):
        return {
            'local': lambda: LocalVolume(tmp_path / path),
            's3': lambda: S3Volume(bucket, path),
            'memory': lambda: from_url(f'memory://{tmp_path.name}/{path}'),
        }[backend]()
    put(at('p'), 'child/a.txt', b'a')
    put(at('p'), 'b.txt', b'b')
    before = files_of(at('p'))
    for source, dest in (('p/child', 'p'), ('p', 'p/child'), ('p', 'p')):
        with pytest.raises(UnsafeOperationError, match='overlap'):
            sync_files(at(source), at(dest), delete=True)
    assert files_of(at('p')) == before


@pytest.mark.parametrize('backend', ['s3', 'gcs', 'azure'])
def test_sync_delete_takes_the_object_not_the_prefix_of_one_name(tmp_path, make_volume, backend):
    """Target holds ``k`` and ``k/a``, the source only ``k/a``: the object
    ``k`` goes, the object below the prefix ``k/`` stays."""
    source, target = LocalVolume(tmp_path / 'src'), make_volume(backend)
    put(source, 'k/a', b'below')
    put(target, 'k', b'object')
    put(target, 'k/a', b'below')
    result = sync_files(source, target, delete=True)
    assert (result.deleted, result.unchanged, result.copied) == (['k'], 1, [])
    assert files_of(target) == {'k/a': b'below'}


def test_sync_between_sibling_folders_is_allowed(tmp_path):
    source, dest = LocalVolume(tmp_path / 'p'), LocalVolume(tmp_path / 'p2')
    put(source, 'a.txt', b'a')
    assert sync_files(source, dest).copied == ['a.txt']


# -- 2: copies never torn by a concurrent writer -----------------------------------

@pytest.mark.parametrize('new', [b'a much longer second version', b'short'])
@pytest.mark.parametrize('direction', ['local->s3', 's3->local'])
def test_a_file_replaced_after_listing_is_copied_whole(tmp_path, bucket, new, direction):
    local, s3 = LocalVolume(tmp_path / 'src'), S3Volume(bucket, 'src')
    source, target = (local, s3) if direction == 'local->s3' else (s3, LocalVolume(tmp_path / 't'))
    put(source, 'f.txt', b'the first version')
    pairs = list(planned([None], None, ends(source, target)))  # sizes as listed
    put(source, 'f.txt', new)  # replaced before the copy reads it
    copy_planned(pairs, source, target)
    assert files_of(target) == {'f.txt': new}


@pytest.mark.parametrize('backend', ['gcs', 'azure'])
@pytest.mark.parametrize('into', ['local', 'memory'])
def test_a_big_file_replaced_after_listing_is_copied_whole(tmp_path, make_volume, backend, into):
    """A big file (read in ranged parts) replaced by a larger version between
    the listing and the copy: the copy is the new version whole, never the
    new one cut to the listed length."""
    source = make_volume(backend)
    first, second = os.urandom(10_485_767), os.urandom(15_728_651)
    put(source, 'big.bin', first)
    target = LocalVolume(tmp_path / 'dst') if into == 'local' else from_url(
        f'memory://{tmp_path.name}/dst')
    pairs = list(planned([None], None, ends(source, target)))
    put(source, 'big.bin', second)
    copy_planned(pairs, source, target)
    assert target.load('big.bin').open().read() == second


def test_a_small_file_that_grew_after_listing_is_streamed(tmp_path):
    """A log listed at 1 KiB that grew to 48 MiB before the bulk copy read it:
    copied whole as it is now, streamed (not read into memory at once)."""
    import tracemalloc
    source = LocalVolume(tmp_path / 'src')
    put(source, 'app.log', b'x' * 1024)
    # Other filesystem options: another filesystem, so a bulk copy, not a server-side one.
    target = LocalVolume(tmp_path / 'dst', storage_options={'auto_mkdir': True})
    pairs = list(planned([None], None, ends(source, target)))
    grown = os.urandom(48 * 2 ** 20)
    (tmp_path / 'src' / 'app.log').write_bytes(grown)
    tracemalloc.start()
    try:
        copy_planned(pairs, source, target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2 ** 20, f'{peak / 2 ** 20:.0f} MiB held'
    assert target.load('app.log').open().read() == grown


def test_race_with_a_writer_tears_no_copy(tmp_path, bucket):
    """A writer replaces files (by rename, as store() does) while they are
    copied: every copy is one whole version, old or new."""
    source, target = LocalVolume(tmp_path / 'src'), S3Volume(bucket, 'race')
    versions = {f'f{i:03d}.txt': [b'v1-' + b'x' * (i % 7), b'v2-longer-' + b'y' * i]
                for i in range(200)}
    for key, (old, _) in versions.items():
        put(source, key, old)
    pairs = list(planned([None], None, ends(source, target)))
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            for key, (old, new) in versions.items():
                put(source, key, new if time.time() % 2 else old)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copy_planned(pairs, source, target)
    finally:
        stop.set()
        thread.join()
    copied = files_of(target)
    assert set(copied) == set(versions)
    torn = [key for key, data in copied.items() if data not in versions[key]]
    assert torn == []


# -- 5, 7: plans with clashing destinations -----------------------------------------

def test_two_sources_for_one_destination_are_refused(tmp_path, bucket):
    source, dest = LocalVolume(tmp_path / 'src'), S3Volume(bucket, 'merged')
    put(source, 'r1/log.txt', b'one')
    put(source, 'r2/log.txt', b'two')
    with pytest.raises(UnsafeOperationError) as info:
        source.copy(['r1', 'r2'], dest, 'merged')
    assert "'r1/log.txt' and 'r2/log.txt'" in str(info.value)
    assert "'merged/log.txt'" in str(info.value)
    assert files_of(dest) == {}


def test_a_file_and_a_folder_of_one_name_cannot_go_to_local_disk(tmp_path, bucket):
    source = S3Volume(bucket, 'both')
    put(source, 'k', b'file')
    put(source, 'k/a', b'below')
    with pytest.raises(UnsafeOperationError, match="'out' would be a file and the folder"):
        copy_files('k', source, 'out', LocalVolume(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists()
    other = S3Volume(bucket, 'copy')
    assert copy_files('k', source, 'out', other) == ['out', 'out/a']
    assert files_of(other) == {'out': b'file', 'out/a': b'below'}


# -- 11: a missing bucket, on every copy path ----------------------------------------

@pytest.mark.parametrize('size', [10, BULK_FILE_LIMIT + 1])
def test_copy_into_a_missing_bucket(tmp_path, s3_server, size):
    """Small files (bulk), a large one (streamed): the bucket is named."""
    source = LocalVolume(tmp_path / 'src')
    put(source, 'data/names.txt', b'x' * size)
    with pytest.raises(VolumeNotFoundError, match='no-such-bucket'):
        copy_files(None, source, None, S3Volume('no-such-bucket', 'p'))


def test_server_side_copy_into_a_missing_bucket(bucket):
    source = S3Volume(bucket, 'src')
    put(source, 'a.txt', b'a')
    with pytest.raises(VolumeNotFoundError, match='no-such-bucket'):
        copy_files(None, source, None, S3Volume('no-such-bucket', 'p', fs=source.fs))


# -- 9: timeouts ---------------------------------------------------------------------

def network_volumes(address):
    """A volume of each network backend pointed at one address, 1 s timeout."""
    yield S3Volume('bucket', 'p', storage_options=dict(
        endpoint_url=f'http://{address}', key='k', secret='s', timeout=1))
    yield AzureVolume('container', 'p', storage_options=dict(
        timeout=1, connection_string=connection_string(address)))
    yield WebdavVolume(f'http://{address}', 'd', storage_options=dict(timeout=1))
    yield from_url(f'http://{address}/d/', timeout=1)


def test_a_silent_server_gives_a_typed_error(s3_server):
    """Against a server that accepts connections and never answers, each
    network backend gives up (its retries included) with a typed error."""
    with SilentServer() as silent:
        outcomes = {}

        def attempt():
            for volume in network_volumes(silent.address):
                try:
                    volume.load('a.txt')
                except StorageError as ex:
                    outcomes[volume.describe()] = ex
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(timeout=120)  # a hang guard: each attempt ends within seconds
        assert not worker.is_alive(), f'still waiting after {outcomes}'
    assert len(outcomes) == 4, outcomes
    assert all("'a.txt'" in str(ex) for ex in outcomes.values())


@pytest.mark.parametrize('size', [10, 7 * 2 ** 20, 12 * 2 ** 20])
def test_an_upload_to_a_silent_server_ends(size):
    """Uploads are bounded too: botocore asked for '100 Continue' (which
    aiohttp awaits with no timeout) and a server that stops reading left the
    client waiting for room to write (one PUT, and a multipart upload)."""
    with SilentServer() as silent:
        volume = S3Volume('bucket', 'p', storage_options=dict(
            endpoint_url=f'http://{silent.address}', key='k', secret='s', timeout=1, retries=1,
            part_size=5 * 2 ** 20))
        outcome = []

        def upload():
            try:
                put(volume, 'a.bin', b'x' * size)
            except StorageError as ex:
                outcome.append(ex)
        worker = threading.Thread(target=upload, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(timeout=60)  # a hang guard
        assert not worker.is_alive(), 'the upload still waits'
    assert len(outcome) == 1 and "'a.bin'" in str(outcome[0])
    assert time.monotonic() - started < 30


@pytest.mark.parametrize('server', ['refusing', 'silent'])
def test_an_unreachable_http_server_is_no_missing_file(server):
    """fsspec's HTTP filesystem reports a refused or timed-out request as a
    missing file, and its listing as empty: neither is what happened."""
    from flowserv_fsspec.testing.processes import free_port
    with SilentServer() as silent:
        address = silent.address if server == 'silent' else f'127.0.0.1:{free_port()}'
        volume = from_url(f'http://{address}/d/', timeout=1)
        for call in (lambda: volume.load('x.txt'), lambda: volume.walk(None),
                     lambda: cleanup(volume, older_than=0)):
            with pytest.raises(StorageError):
                call()


def test_sftp_and_gcs_take_the_timeout(request):
    """SFTP bounds the connect and login, GCS each request (their clients are
    built when the volume is)."""
    sftp = request.getfixturevalue('sftp_server')
    assert SftpVolume('/d', '127.0.0.1', port=sftp.port, storage_options=dict(
        timeout=7)).fs.storage_options['connect_timeout'] == 7.0
    request.getfixturevalue('gcs_server')
    from flowserv_fsspec import GCVolume
    assert GCVolume('b', storage_options=dict(timeout=3)).fs.requests_timeout == 3.0


@pytest.mark.parametrize('timeout', [0, -1, 'soon', True])
def test_timeout_option_is_checked(timeout):
    with pytest.raises(InvalidConfigurationError, match='timeout'):
        S3Volume('bucket', storage_options={'timeout': timeout})


# -- 10: typed errors instead of tracebacks --------------------------------------------

@pytest.mark.parametrize('url', ['zip://x', 'tar://x', 'dir://x'])
def test_unusable_fsspec_urls(url):
    with pytest.raises(InvalidConfigurationError, match=url):
        from_url(url)


def test_azure_without_credentials(monkeypatch):
    for name in list(os.environ):
        if name.startswith('AZURE_'):
            monkeypatch.delenv(name)
    with pytest.raises(InvalidConfigurationError, match="Azure Blob container 'c'"):
        from_url('az://c', skip_instance_cache=True)  # not the cached client of other tests


def test_document_type_of_a_wrong_type():
    with pytest.raises(InvalidConfigurationError, match="'s3'"):
        Volume({'type': ['s3'], 'args': []})


def test_deleting_the_working_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / 'work'
    put(LocalVolume(folder), 'sub/a.txt', b'a')
    monkeypatch.chdir(folder / 'sub')
    for key in ('work', 'work/sub'):
        with pytest.raises(UnsafeOperationError, match='current working folder'):
            LocalVolume(tmp_path).delete(key)
    assert files_of(LocalVolume(folder)) == {'sub/a.txt': b'a'}


# -- 14: memory stores ----------------------------------------------------------------

class CountingStore(dict):
    """The memory filesystem's store, counting scans of all its keys."""

    scans = 0

    def __iter__(self):
        CountingStore.scans += 1
        return super().__iter__()


def test_memory_stores_do_not_scan_every_file(monkeypatch):
    """The memory filesystem answers info/isdir/exists/mv by scanning all its
    files: writes through a volume must not use them."""
    monkeypatch.setattr(MemoryFileSystem, 'store', CountingStore())
    monkeypatch.setattr(MemoryFileSystem, 'pseudo_dirs', [''])
    fs = fsspec.filesystem('memory')
    for i in range(2000):
        fs.pipe_file(f'/other/f{i}', b'x')
    source, target = MemoryVolume(fs, '/src'), MemoryVolume(fs, '/dst')
    CountingStore.scans = 0
    for i in range(100):
        put(source, f'd{i % 10}/f{i}.txt', b'data')
    assert CountingStore.scans == 0
    copy_files(None, source, None, target)  # one listing of the source
    copy_files(None, source, None, LocalVolume(f'/tmp/memcopy-{os.getpid()}'))
    assert CountingStore.scans <= 2
    assert len(files_of(target)) == 100


def test_memory_url_and_document_give_memory_volumes():
    volume = from_url('memory://runs/a')
    assert type(volume) is MemoryVolume
    assert type(Volume(volume.to_dict())) is MemoryVolume
    assert type(volume.get_store_for_folder('x')) is MemoryVolume
    assert isinstance(volume, FsspecVolume)


# -- 15: leftovers, relative paths ---------------------------------------------------

def test_cleanup_removes_old_part_files(tmp_path):
    volume = LocalVolume(tmp_path / 'v')
    put(volume, 'd/a.txt', b'kept')
    old = temp_path(str(tmp_path / 'v' / 'd' / 'a.txt'))
    young = temp_path(str(tmp_path / 'v' / 'b.txt'))
    for path, age in ((old, 7200), (young, 10)):
        with open(path, 'wb') as f:
            f.write(b'partial')
        os.utime(path, (time.time() - age, time.time() - age))
    found = cleanup(volume, older_than=3600, dry_run=True)
    assert [(x.kind, x.key) for x in found] == [('part file', 'd/' + os.path.basename(old))]
    assert os.path.exists(old)
    cleanup(volume, older_than=3600)
    assert not os.path.exists(old) and os.path.exists(young)
    assert files_of(volume) == {'d/a.txt': b'kept'}


def test_cleanup_aborts_stale_multipart_uploads(bucket, s3_client):
    volume, other = S3Volume(bucket, 'runs'), S3Volume(bucket, 'other')
    for vol in (volume, other):
        s3_client.call_s3(
            'create_multipart_upload', Bucket=bucket, Key=vol.root.split('/', 1)[1] + '/big.bin'
        )
    # moto reports every upload as initiated in 2010; the age rule is checked above.
    assert cleanup(volume, older_than=10 ** 10) == []
    found = cleanup(volume, older_than=0)
    assert [(x.kind, x.key) for x in found] == [('multipart upload', 'big.bin')]
    uploads = s3_client.call_s3('list_multipart_uploads', Bucket=bucket).get('Uploads', [])
    assert [u['Key'] for u in uploads] == ['other/big.bin']


def test_local_documents_hold_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = LocalVolume('runs').to_dict()
    assert doc['args'] == [{'key': 'basedir', 'value': str(tmp_path / 'runs')}]
    monkeypatch.chdir('/')
    put(Volume(doc), 'a.txt', b'a')
    assert (tmp_path / 'runs' / 'a.txt').read_bytes() == b'a'


def test_memory_deletes_and_walks_while_other_threads_store(tmp_path):
    """fsspec's memory filesystem is one dict: a delete or walk that iterates
    it while other threads store raised 'dictionary changed size'."""
    volume = from_url(f'memory://{tmp_path.name}/threads')
    for i in range(5000):  # iterations long enough for a thread switch inside them
        volume.fs.pipe_file(f'/{tmp_path.name}/other/f{i}', b'x')
    stop, failures = threading.Event(), []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)

    def store(worker):
        i = 0
        while not stop.is_set():
            put(volume, f'w{worker}/f{i % 200}.txt', b'x')
            i += 1

    writers = [threading.Thread(target=store, args=(n,)) for n in range(3)]
    for thread in writers:
        thread.start()
    deadline = time.monotonic() + 1
    try:
        while time.monotonic() < deadline:
            try:
                volume.delete('w0')
                volume.walk(None)
            except Exception as ex:  # noqa: PERF203 - counting failures is the point
                failures.append(ex)
    finally:
        sys.setswitchinterval(switch)
        stop.set()
        for thread in writers:
            thread.join()
        from_url(f'memory://{tmp_path.name}').erase()
    assert failures == []


# -- sync compares sizes and modification times ---------------------------------------

@pytest.mark.parametrize('backend', ['local', 's3', 'gcs', 'azure', 'sftp', 'webdav', 'memory'])
def test_sync_copies_a_same_size_edit(tmp_path, make_volume, backend):
    """An edit that keeps the size is copied (by its modification time), a
    second sync copies nothing, and --size-only would not have seen it."""
    from flowserv_fsspec.sync import WRITTEN_WINDOW
    source, target = LocalVolume(tmp_path / 'src'), make_volume(backend)
    put(source, 'a.txt', b'version-1')
    put(source, 'b.txt', b'unchanged')
    assert sync_files(source, target).copied == ['a.txt', 'b.txt']
    assert sync_files(source, target).unchanged == 2
    # Edited later: after the time the target wrote its copy (whole seconds on some).
    time.sleep(WRITTEN_WINDOW + 0.2)
    (tmp_path / 'src' / 'a.txt').write_bytes(b'version-2')
    assert sync_files(source, target, size_only=True, dry_run=True).copied == []
    assert sync_files(source, target).copied == ['a.txt']
    assert files_of(target) == {'a.txt': b'version-2', 'b.txt': b'unchanged'}
    assert sync_files(source, target).unchanged == 2


@pytest.mark.parametrize('direction', ['local->s3', 's3->local', 's3->s3', 'local->local'])
def test_sync_copies_a_same_size_edit_to_an_older_time(tmp_path, bucket, direction):
    """Where copies keep their source's time (local disk, S3 metadata), any
    other time is a change, an older one too (a backup restored)."""
    volumes = {
        'local': lambda name: LocalVolume(tmp_path / name),
        's3': lambda name: S3Volume(bucket, name),
    }
    one, other = direction.split('->')
    source, target = volumes[one]('src'), volumes[other]('dst')
    put(LocalVolume(tmp_path / 'new'), 'a.txt', b'version-1')
    copy_files('a.txt', LocalVolume(tmp_path / 'new'), 'a.txt', source)  # with its time
    sync_files(source, target)
    assert sync_files(source, target).unchanged == 1
    if one == 'local':
        put(source, 'a.txt', b'version-2')
        os.utime(tmp_path / 'src' / 'a.txt', (1e9, 1e9))  # 2001
    else:
        put(LocalVolume(tmp_path / 'old'), 'a.txt', b'version-2')
        os.utime(tmp_path / 'old' / 'a.txt', (1e9, 1e9))
        copy_files('a.txt', LocalVolume(tmp_path / 'old'), 'a.txt', source)
    assert sync_files(source, target).copied == ['a.txt']
    assert files_of(target) == {'a.txt': b'version-2'}
    assert sync_files(source, target).unchanged == 1


def test_an_upload_time_to_the_second_equals_a_finer_copy_of_it(tmp_path, bucket, s3_client):
    """An object without kept time has its upload time, to the second in S3
    answers; a copy that another tool gave a finer time (rclone keeps
    nanoseconds) is the same file, one a second older is not."""
    s3_client.pipe_file(f'{bucket}/up/a.txt', b'same')
    uploaded = s3_client.call_s3('head_object', Bucket=bucket, Key='up/a.txt')['LastModified']
    put(LocalVolume(tmp_path / 'copy'), 'a.txt', b'same')
    os.utime(tmp_path / 'copy' / 'a.txt', (uploaded.timestamp() + 0.4,) * 2)
    source, target = S3Volume(bucket, 'up'), LocalVolume(tmp_path / 'copy')
    assert sync_files(source, target).unchanged == 1
    os.utime(tmp_path / 'copy' / 'a.txt', (uploaded.timestamp() - 1.5,) * 2)
    assert sync_files(source, target).copied == ['a.txt']


def test_copies_keep_the_source_time_where_the_storage_can(tmp_path, bucket, s3_client):
    source = LocalVolume(tmp_path / 'src')
    put(source, 'a.txt', b'a')
    os.utime(tmp_path / 'src' / 'a.txt', (1234567890.5, 1234567890.5))
    copy_files(None, source, None, S3Volume(bucket, 'kept'))
    head = s3_client.call_s3('head_object', Bucket=bucket, Key='kept/a.txt')
    assert head['Metadata'] == {'mtime': '1234567890.5'}
    copy_files(None, S3Volume(bucket, 'kept'), None, LocalVolume(tmp_path / 'back'))
    assert os.stat(tmp_path / 'back' / 'a.txt').st_mtime == 1234567890.5
