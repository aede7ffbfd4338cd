"""Syncs on a Dask cluster of worker processes against moto's S3 server over
HTTP and rclone's S3 server: the plan is the single-machine sync's, the
checks of the whole come before any write, a failed sync run again copies
only what it missed; progress and storage options cross the cluster."""

import json
import pickle
import time

import pytest
from fsspec.callbacks import Callback
from s3fs import S3FileSystem

from flowserv_fsspec import LocalVolume, S3Volume, sync_files
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    TransferError,
    UnsafeOperationError,
    VolumeNotFoundError,
)


distributed = pytest.importorskip('distributed')

ODD = ['g/[a]*?.txt', 'g/{b,c}.txt', 'sp ace/x y', 'ü/é.txt', 'n/x/y/z.txt']
"""The odd keys of the trees (conftest) but the key that is an object and a
prefix, which neither local disk nor rclone's S3 server can hold."""


def drifted(s3_client, bucket, files):
    """Make the target 'dst' differ from 'src' (filled with ``files``): some
    files the same, some of another size, some missing, and extra files in
    many folders (with odd names) that a sync with ``delete`` removes."""
    ordered = sorted(files.items())
    same = {key: data for i, (key, data) in enumerate(ordered) if i % 3 == 0}
    changed = {key: data + b'!' for i, (key, data) in enumerate(ordered) if i % 3 == 1}
    extra = {f'd{i % 12:02d}/x{i}': b'x' for i in range(30)}
    extra.update({'g/[a]*?.old': b'o', 'both/gone': b'g', 'only-target/y': b'y'})
    written = {**same, **changed, **extra}
    s3_client.pipe({f'{bucket}/dst/{key}': data for key, data in written.items()})
    return sorted(set(files) - set(same)), sorted(extra)


def test_a_sync_with_delete_does_what_one_machine_would(client, bucket, s3_client, fill, digests):
    """A sync with ``delete`` of 300 objects plus odd keys: the cluster's plan
    (dry run) is the single-machine plan; the sync makes the target
    sha256-identical; run again, it finds everything unchanged."""
    from flowserv_fsspec.cluster import sync_on_cluster
    files = fill(s3_client, bucket, 'src', 300)
    to_copy, to_delete = drifted(s3_client, bucket, files)
    source, target = S3Volume(bucket, 'src'), S3Volume(bucket, 'dst')
    alone = sync_files(source, target, delete=True, dry_run=True)
    planned = sync_on_cluster(source, target, client, delete=True, dry_run=True)
    assert sorted(planned.copied) == sorted(alone.copied) == to_copy
    assert sorted(planned.deleted) == sorted(alone.deleted) == to_delete
    assert planned.unchanged == alone.unchanged == len(files) - len(to_copy)
    with distributed.get_task_stream(client) as stream:
        result = sync_on_cluster(source, target, client, delete=True)
    assert sorted(result.copied) == to_copy and sorted(result.deleted) == to_delete
    assert digests(s3_client, bucket, 'dst') == digests(s3_client, bucket, 'src')
    assert len({task['worker'] for task in stream.data if 'sync-copy' in str(task['key'])}) == 2
    again = sync_on_cluster(source, target, client, delete=True)
    assert (again.copied, again.deleted, again.unchanged) == ([], [], len(files))


def test_a_worker_killed_mid_sync_loses_nothing(
    client, bucket, s3_client, fill, digests, killed_mid
):
    """SIGKILL to a worker while it copies a part of a sync: its tasks (and
    the plans it held) run again elsewhere; the sync completes with the
    target sha256-identical, nothing more deleted than planned, and no
    upload left open."""
    from flowserv_fsspec.cluster import sync_on_cluster
    files = fill(s3_client, bucket, 'src', 400)
    _, to_delete = drifted(s3_client, bucket, files)
    source, target = S3Volume(bucket, 'src'), S3Volume(bucket, 'dst')
    result = killed_mid(client, 'sync-copy', lambda: sync_on_cluster(
        source, target, client, delete=True, max_delete=len(to_delete)))
    assert sorted(result.deleted) == to_delete
    assert digests(s3_client, bucket, 'dst') == digests(s3_client, bucket, 'src')
    assert target.find_leftovers(0) == []


def test_the_whole_is_checked_before_any_write(client, bucket, s3_client, tmp_path, fill, digests):
    """``max_delete`` is a budget for the whole sync (33 deletions in many
    parts, a budget of 32: refused, though each part deletes fewer); an empty
    source with ``delete``, a missing source and overlap are refused. Nothing
    is written or deleted."""
    from flowserv_fsspec.cluster import sync_on_cluster
    files = fill(s3_client, bucket, 'src', 150)
    drifted(s3_client, bucket, files)
    before = digests(s3_client, bucket, 'dst')
    source, target = S3Volume(bucket, 'src'), S3Volume(bucket, 'dst')
    (tmp_path / 'empty').mkdir()
    refused = [
        (UnsafeOperationError, 'it would delete 33 files, more than the maximum of 32',
         lambda: sync_on_cluster(source, target, client, delete=True, max_delete=32)),
        (UnsafeOperationError, 'the source is empty', lambda: sync_on_cluster(
            LocalVolume(tmp_path / 'empty'), target, client, delete=True)),
        (VolumeNotFoundError, 'nothing', lambda: sync_on_cluster(
            S3Volume(bucket, 'nothing'), target, client, delete=True)),
        (UnsafeOperationError, 'overlap', lambda: sync_on_cluster(
            source, S3Volume(bucket, 'src/d00'), client, delete=True)),
    ]
    with distributed.get_task_stream(client) as stream:
        for error, message, run in refused:
            with pytest.raises(error, match=message):
                run()
    assert not [task for task in stream.data if 'sync-copy' in str(task['key'])
                or 'sync-delete' in str(task['key'])]
    assert digests(s3_client, bucket, 'dst') == before
    assert len(digests(s3_client, bucket, 'src')) == len(files)
    done = sync_on_cluster(source, target, client, delete=True, max_delete=33)
    assert len(done.deleted) == 33


def test_a_failed_sync_run_again_copies_only_what_it_missed(
    client, bucket, s3_client, tmp_path, fill
):
    """A local target holds a file 'd03' where the source has a folder: the
    copies below it fail, the error names them, nothing is deleted; with the
    file moved away, the sync run again copies exactly the files pending."""
    from flowserv_fsspec.cluster import sync_on_cluster
    files = fill(s3_client, bucket, 'src', 240, odd=ODD)
    source, local = S3Volume(bucket, 'src'), tmp_path / 'local'
    local.mkdir()
    (local / 'd03').write_bytes(b'in the way')
    (local / 'stale').write_bytes(b'to delete')
    target = LocalVolume(local)
    with pytest.raises(TransferError) as raised:
        sync_on_cluster(source, target, client, delete=True, retries=0)
    error = raised.value
    below = sorted(key for key in files if key.startswith('d03/'))
    assert error.key.startswith('d03/') and set(below) <= set(error.pending)
    assert not set(error.done) & set(error.pending)
    assert sorted([*error.done, *error.pending]) == sorted(files)
    assert (local / 'stale').exists() and (local / 'd03').read_bytes() == b'in the way'
    (local / 'd03').rename(tmp_path / 'moved')
    again = sync_on_cluster(source, target, client, delete=True)
    assert sorted(again.copied) == sorted(error.pending)
    assert again.deleted == ['stale'] and again.unchanged == len(error.done)


class Counting(Callback):
    """A progress callback that keeps what it is told."""

    def __init__(self):
        super().__init__()
        self.files = 0

    def counted(self, files):
        self.files = files


def told(callback, nbytes, files):
    """Wait until a callback was told the bytes and files (events arrive
    on their own; 10 s at most)."""
    deadline = time.monotonic() + 10
    while (callback.size, callback.value, callback.files) != (nbytes, nbytes, files):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_progress_comes_from_every_worker(client, bucket, s3_client, fill):
    """The client's callback is told the bytes planned and copied and the
    files copied across all workers, for a copy and for a sync."""
    from flowserv_fsspec.cluster import copy_on_cluster, sync_on_cluster
    files = fill(s3_client, bucket, 'src', 150)
    total = sum(len(data) for data in files.values())
    source = S3Volume(bucket, 'src')
    copying = Counting()
    copy_on_cluster(None, source, None, S3Volume(bucket, 'copy'), client, callback=copying,
                    counted=copying.counted)
    assert told(copying, total, len(files)), (copying.size, copying.value, copying.files)
    syncing = Counting()
    drifted(s3_client, bucket, files)
    result = sync_on_cluster(source, S3Volume(bucket, 'dst'), client, callback=syncing,
                             counted=syncing.counted)
    copied = sum(len(files[key]) for key in result.copied)
    assert told(syncing, copied, len(result.copied)), (syncing.size, syncing.value, syncing.files)


def test_options_travel_and_secrets_only_when_sent(client, rclone_s3, fill, digests):
    """A sync with ``delete`` of 2,000 objects plus odd keys on rclone's S3
    server, which the workers' environment does not point at: its endpoint
    travels as an option, its credentials only when sent explicitly, and no
    worker log, task key or message shows them."""
    from flowserv_fsspec.cluster import sync_on_cluster
    from flowserv_fsspec.cluster.travel import travelling
    options = rclone_s3.storage_options()
    s3 = S3FileSystem(skip_instance_cache=True, **options)
    bucket = rclone_s3.create_buckets('cluster-sync')[0]
    # rclone's server keeps objects as files: no key is an object and a prefix there.
    files = fill(s3, bucket, 'src', 2000, odd=ODD)
    to_copy, to_delete = drifted(s3, bucket, files)
    source = S3Volume(bucket, 'src', storage_options=options)
    target = S3Volume(bucket, 'dst', storage_options=options)
    with pytest.raises(InvalidConfigurationError) as refused:
        sync_on_cluster(source, target, client, source_options=options)
    assert "['key', 'secret']" in str(refused.value)
    assert options['secret'] not in str(refused.value)
    sent = travelling(source, options, send_secrets=True)
    assert options['secret'] not in repr(sent) and options['key'] not in repr(sent)
    assert pickle.loads(pickle.dumps(sent)).secrets.values()['secret'] == options['secret']
    with distributed.get_task_stream(client) as stream:
        result = sync_on_cluster(source, target, client, delete=True, source_options=options,
                                 target_options=options, send_secrets=True)
    assert sorted(result.copied) == to_copy and sorted(result.deleted) == to_delete
    assert digests(s3, bucket, 'dst') == digests(s3, bucket, 'src')
    shown = json.dumps([str(task['key']) for task in stream.data])
    shown += json.dumps(client.get_worker_logs()) + json.dumps(client.get_scheduler_logs())
    assert options['secret'] not in shown and options['key'] not in shown


def test_the_command_line_syncs_on_a_cluster(
    client, bucket, s3_client, tmp_path, fill, digests, cli
):
    """``sync --dask ADDRESS --delete``: refused over the budget (exit 1,
    nothing done), then the target matches; ``--json`` gives the result;
    ``--timeout`` reaches the workers for S3, not for a local folder (which
    takes no such option)."""
    files = fill(s3_client, bucket, 'src', 60, odd=ODD)
    _, extra = drifted(s3_client, bucket, files)
    src, dst = f's3://{bucket}/src', f's3://{bucket}/dst'
    address = client.scheduler.address
    out = cli('sync', '--dask', address, '--delete', '--max-delete', '3', src, dst, code=1)
    assert f'it would delete {len(extra)} files' in out
    out = json.loads(cli('sync', '--dask', address, '--delete', '--json', src, dst))
    assert sorted(out['deleted']) == extra and out['dry_run'] is False
    assert digests(s3_client, bucket, 'dst') == digests(s3_client, bucket, 'src')
    out = cli('--timeout', '30', 'sync', '--dask', address, src, str(tmp_path / 'local'))
    assert f'copy {len(files)}, delete 0, unchanged 0' in out
    local = tmp_path / 'local'
    assert {str(p.relative_to(local)) for p in local.rglob('*') if p.is_file()} == set(files)
