"""Listings that stream: ``iter_walk`` holds a folder (local disk) or a page
of 1,000 keys (S3) at a time, never the whole listing, and gives the keys in
order as it goes."""

import os
import time
import tracemalloc

import pytest
from s3fs import S3FileSystem

from flowserv_fsspec import LocalVolume, S3Volume


def test_an_s3_listing_streams_a_page_at_a_time(s3_server, bucket):
    keys = sorted(f'd{i % 7}/f{i:05d}' for i in range(1001))
    fs = S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())
    fs.pipe({f'{bucket}/data/{key}': b'x' for key in keys})
    volume = S3Volume(bucket, 'data')
    s3_server.counter.reset()
    listing = volume.iter_walk(None)
    assert next(listing)[0] == keys[0]
    assert s3_server.counter.snapshot()['methods'] == {'GET': 1}
    rest = [key for key, _ in listing]
    assert [keys[0]] + rest == keys
    assert s3_server.counter.snapshot()['methods'] == {'GET': 2}


def peak_bytes(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_local_listing_holds_a_folder_at_a_time(tmp_path):
    for folder in range(20):
        (tmp_path / f'd{folder:02d}').mkdir()
        for i in range(1000):
            (tmp_path / f'd{folder:02d}' / f'f{i:04d}').write_bytes(b'x')
    volume = LocalVolume(tmp_path)
    counted = []
    streamed = peak_bytes(lambda: counted.append(sum(1 for _ in volume.iter_walk(None))))
    listed = peak_bytes(lambda: counted.append(len(volume.walk(None))))
    assert counted == [20_000, 20_000]
    assert streamed * 10 < listed, (streamed, listed)


def test_march_merges_two_sorted_listings_and_refuses_an_unsorted_one():
    from flowserv_fsspec.errors import UnsafeOperationError
    from flowserv_fsspec.march import march
    source = [('a', 1), ('a-1', 2), ('a/b', 3), ('c', 4)]
    target = [('a', 10), ('a/b', 30), ('b', 20)]
    assert list(march(source, target)) == [
        ('a', 1, 10), ('a-1', 2, None), ('a/b', 3, 30), ('b', None, 20), ('c', 4, None)
    ]
    with pytest.raises(UnsafeOperationError, match="'a/b'"):
        list(march([('b', 1), ('a/b', 2)], []))


def test_a_no_op_sync_holds_no_list_of_its_files(tmp_path):
    """A sync of two equal trees compares them as they stream: its peak memory
    is a small part of what a list of the files takes."""
    from flowserv_fsspec import sync_files
    for side in ('source', 'target'):
        for folder in range(100):
            (tmp_path / side / f'd{folder}').mkdir(parents=True)
            for i in range(100):
                (tmp_path / side / f'd{folder}' / f'f{i:04d}').write_bytes(b'x')
    source, target = LocalVolume(tmp_path / 'source'), LocalVolume(tmp_path / 'target')
    sync_files(source, target, size_only=True)
    results = []
    synced = peak_bytes(lambda: results.append(sync_files(source, target, size_only=True)))
    listed = peak_bytes(lambda: results.append(source.walk(None)))
    assert (results[0].unchanged, results[0].copied, len(results[1])) == (10_000, [], 10_000)
    assert synced * 10 < listed, (synced, listed)


def test_an_s3_folder_is_deleted_a_page_at_a_time(s3_server, bucket):
    """rm -r of a folder of 1,101 objects: two DeleteObjects of at most
    1,000 keys, each after a listing of what is left; the object named like
    the folder goes too, the sibling that shares its prefix stays."""
    fs = S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())
    fs.pipe({f'{bucket}/v/d/f{i:04d}': b'x' for i in range(1100)})
    fs.pipe({f'{bucket}/v/d': b'object', f'{bucket}/v/d0/keep': b'sibling'})
    volume = S3Volume(bucket, 'v')
    s3_server.counter.reset()
    volume.delete('d')
    assert [key for key, _ in volume.iter_walk(None)] == ['d0/keep']
    assert s3_server.counter.snapshot()['methods']['POST'] == 2  # DeleteObjects


def test_a_copy_writes_before_its_listing_ends(tmp_path):
    """copy_files moves the first batch while the source is still being
    listed: a plan is a stream, not a list made before the first write."""
    from flowserv_fsspec import copy_files, from_url
    for folder in range(3):
        (tmp_path / 'src' / f'd{folder}').mkdir(parents=True)
        for i in range(400):
            (tmp_path / 'src' / f'd{folder}' / f'f{i:03d}').write_bytes(b'x')
    source = LocalVolume(tmp_path / 'src')
    target = from_url(f'memory://{tmp_path.name}/copy')
    listed, at_first_write = [], []
    real_walk, real_put_many = source.iter_walk, target.writes.put_many

    def counted_walk(src):
        for item in real_walk(src):
            listed.append(item[0])
            yield item

    def recorded_put_many(*args):
        at_first_write.append(len(listed))
        return real_put_many(*args)

    source.iter_walk = counted_walk
    target.writes.put_many = recorded_put_many
    copied = copy_files(None, source, None, target)
    assert len(copied) == len(listed) == 1200
    assert at_first_write[0] < 1200, 'the whole source was listed before the first write'
    assert sorted(key for key, _ in target.walk(None)) == copied


def test_refusals_hold_only_the_keys_that_can_still_clash():
    """Plans sorted by destination key: a file that would be the folder of a
    later key is refused even with siblings sorting between them ('x-1'
    comes between 'x' and 'x/y'); two files for one key are refused; the
    keys held stay a chain of prefixes of the last key."""
    from flowserv_fsspec.errors import UnsafeOperationError
    from flowserv_fsspec.plan import Refusals
    refusals = Refusals('target', folders=True)
    for key in ['x', 'x-1', 'x.txt']:
        refusals.check(f'src/{key}', key)
    with pytest.raises(UnsafeOperationError, match="'x' would be a file and the folder of 'x/y'"):
        refusals.check('src/x/y', 'x/y')
    objects = Refusals('bucket', folders=False)
    for key in ['x', 'x-1', 'x/y']:  # object stores hold both
        objects.check(f'a/{key}', key)
    with pytest.raises(UnsafeOperationError, match="'a/x/y' and 'b/x/y' would both be written"):
        objects.check('b/x/y', 'x/y')
    many = Refusals('target', folders=True)
    for i in range(10_000):
        many.check(f'd{i // 100}/f{i}', f'd{i // 100:03d}/f{i:05d}')
    assert len(many.chain) == 1
    with pytest.raises(UnsafeOperationError, match='not sorted'):
        many.check('a', 'a')


@pytest.mark.parametrize('held', [10_000, 100])
def test_a_clash_on_a_later_page_is_refused_before_any_write(
    s3_server, bucket, tmp_path, monkeypatch, held
):
    """An object store folder whose 1,500th key is both a file and a folder:
    the copy to local disk is refused before the first file is written (the
    plan is checked whole first: as listed when it has at most PLAN_HELD
    files, else by a second listing, a key chain at a time)."""
    from flowserv_fsspec import copy_files, plan
    from flowserv_fsspec.errors import UnsafeOperationError
    monkeypatch.setattr(plan, 'PLAN_HELD', held)
    fs = S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())
    fs.pipe({f'{bucket}/data/f{i:04d}': b'x' for i in range(1500)})
    fs.pipe({f'{bucket}/data/f1499/below': b'y'})
    source = S3Volume(bucket, 'data')
    with pytest.raises(UnsafeOperationError, match="'f1499' would be a file and the folder"):
        copy_files(None, source, None, LocalVolume(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists()


def test_the_keys_a_copy_wrote_beyond_a_bound_wait_in_a_file(tmp_path, monkeypatch):
    """A copy records the keys it wrote (copy_files returns them, a
    TransferError names them): beyond HELD_KEYS they go to a temporary
    file and come back in order, as often as asked for."""
    from flowserv_fsspec import copy_files, from_url, progress
    monkeypatch.setattr(progress, 'HELD_KEYS', 10)
    log = progress.KeyLog()
    keys = [f'd{i % 3}/f{i:02d}' for i in range(25)]
    for key in keys:
        log.append(key)
    assert (len(log), len(log.held), list(log), list(log)) == (25, 10, keys, keys)
    log.append('last')
    assert list(log) == keys + ['last']
    source = LocalVolume(tmp_path / 'src')
    for key in keys:
        (tmp_path / 'src' / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / 'src' / key).write_bytes(key.encode())
    target = from_url(f'memory://{tmp_path.name}/copy')
    assert copy_files(None, source, None, target) == sorted(keys)


def test_an_s3_listing_asks_for_its_next_page_while_one_is_walked(s3_server, bucket):
    """A walk of 2,100 objects (three pages): the second page is asked for
    while the caller still holds the first key; a walk stopped there asks
    for no third page."""
    fs = S3FileSystem(skip_instance_cache=True, **s3_server.storage_options())
    fs.pipe({f'{bucket}/v/f{i:04d}': b'x' for i in range(2100)})
    volume = S3Volume(bucket, 'v')
    assert [key for key, _ in volume.iter_walk(None)] == [f'f{i:04d}' for i in range(2100)]
    s3_server.counter.reset()
    walk = volume.iter_walk(None)
    assert next(walk)[0] == 'f0000'
    deadline = time.monotonic() + 10
    while s3_server.counter.snapshot()['methods'].get('GET', 0) < 2:
        assert time.monotonic() < deadline, 'the second page was not asked for'
        time.sleep(0.01)
    walk.close()
    time.sleep(0.3)
    assert s3_server.counter.snapshot()['methods'] == {'GET': 2}


def s3_and_its_copy(s3_server, bucket, tmp_path, files):
    """An S3 folder of files uploaded by this library (their times kept) and
    a local copy of it that a sync made."""
    from flowserv_fsspec import sync_files
    for i in range(files):
        (tmp_path / 'up' / f'd{i % 3}').mkdir(parents=True, exist_ok=True)
        (tmp_path / 'up' / f'd{i % 3}' / f'f{i:03d}').write_bytes(b'%03d' % i)
    source, target = S3Volume(bucket, 'kept'), LocalVolume(tmp_path / 'copy')
    assert len(sync_files(LocalVolume(tmp_path / 'up'), source).copied) == files
    assert len(sync_files(source, target).copied) == files
    return source, target


def test_a_sync_asks_for_the_kept_times_of_equal_objects_at_once(s3_server, bucket, tmp_path):
    """S3 -> local with 200 equal files: one HEAD an object (its kept time),
    several in flight at once; an object edited to the same size with
    another time is still found."""
    from flowserv_fsspec import sync_files
    source, target = s3_and_its_copy(s3_server, bucket, tmp_path, 200)
    s3_server.counter.reset()
    assert sync_files(source, target).unchanged == 200
    assert s3_server.counter.snapshot()['methods'] == {'GET': 1, 'HEAD': 200}
    assert s3_server.counter.max_in_flight > 1
    os.utime(tmp_path / 'copy' / 'd1' / 'f100', (1e9, 1e9))
    assert sync_files(source, target).copied == ['d1/f100']


def test_a_time_asked_ahead_that_fails_is_asked_again(s3_server, bucket, tmp_path, monkeypatch):
    """A failed request of the look-ahead only leaves modified() to ask (and
    to raise, were it to fail again): the sync's outcome is the same."""
    import concurrent.futures

    from flowserv_fsspec import sync_files
    from flowserv_fsspec.backends.s3 import S3File
    source, target = s3_and_its_copy(s3_server, bucket, tmp_path, 40)

    def failed(self):
        future = concurrent.futures.Future()
        future.set_exception(ConnectionError('look-ahead'))
        return future

    monkeypatch.setattr(S3File, 'ask_modified', failed)
    s3_server.counter.reset()
    os.utime(tmp_path / 'copy' / 'd0' / 'f003', (1e9, 1e9))
    assert sync_files(source, target).copied == ['d0/f003']
    assert s3_server.counter.snapshot()['methods'] == {'GET': 2, 'HEAD': 40}  # list, copy
