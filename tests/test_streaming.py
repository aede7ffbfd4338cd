"""Listings that stream: ``iter_walk`` holds a folder (local disk) or a page
of 1,000 keys (S3) at a time, never the whole listing, and gives the keys in
order as it goes."""

import tracemalloc

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
    import pytest

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
