"""Copies on a Dask cluster of worker processes (``distributed.LocalCluster``)
against moto's S3 server over HTTP: the parts of a copy run on several
workers, and the result is the single-machine copy's."""

import os

import pytest

from flowserv_fsspec import LocalVolume, S3Volume, from_url
from flowserv_fsspec.errors import TransferError, UnsafeOperationError, VolumeNotFoundError


distributed = pytest.importorskip('distributed')


def copy_tasks(client, run):
    """Run a copy on the cluster; give its result and the workers its tasks ran on."""
    with distributed.get_task_stream(client) as stream:
        result = run()
    return result, {task['worker'] for task in stream.data if 'copy' in str(task['key'])}


def test_a_copy_runs_in_parts_on_several_workers(client, bucket, s3_client, fill, digests):
    """1,000 objects and ODD: the copy has every file, sha256 identical,
    and its tasks ran on both workers."""
    from flowserv_fsspec.cluster import copy_on_cluster
    files = fill(s3_client, bucket, 'src', 1000)
    source, target = S3Volume(bucket, 'src'), S3Volume(bucket, 'dst')
    done, workers = copy_tasks(client, lambda: copy_on_cluster(None, source, None, target, client))
    assert sorted(done) == sorted(files)
    assert digests(s3_client, bucket, 'dst') == digests(s3_client, bucket, 'src')
    assert len(workers) == 2


def test_a_folder_goes_below_its_destination(client, bucket, s3_client, tmp_path, fill):
    """A folder copied to a folder of local disk keeps the paths below it;
    an empty folder copies nothing."""
    from flowserv_fsspec.cluster import copy_on_cluster
    fill(s3_client, bucket, 'src', 120)
    source, target = S3Volume(bucket, 'src'), LocalVolume(tmp_path / 'local')
    done = copy_on_cluster('d03', source, 'out/d', target, client)
    expected = {'out/d/' + key[4:] for key, _ in source.iter_walk('d03')}
    assert len(expected) == 10 and set(done) == expected
    assert {key for key, _ in target.iter_walk(None)} == expected
    (tmp_path / 'empty').mkdir()
    empty = LocalVolume(tmp_path / 'empty')
    assert list(copy_on_cluster(None, empty, None, LocalVolume(tmp_path / 'none'), client)) == []
    assert not (tmp_path / 'none').exists()


def test_refusals_come_before_any_task(client, bucket, s3_client, tmp_path, fill):
    """Overlapping volumes, a volume that workers cannot reach and a missing
    source are refused by the client: no task runs, nothing is written."""
    from flowserv_fsspec.cluster import copy_on_cluster
    fill(s3_client, bucket, 'a', 30)
    source = S3Volume(bucket, 'a')
    refused = [
        (UnsafeOperationError, 'overlap', lambda: copy_on_cluster(
            None, source, None, S3Volume(bucket, 'a/d00/below'), client)),
        (UnsafeOperationError, 'cannot be reached by workers', lambda: copy_on_cluster(
            None, source, None, from_url(f'memory://{tmp_path.name}'), client)),
        (VolumeNotFoundError, 'nothing', lambda: copy_on_cluster(
            'nothing', source, None, LocalVolume(tmp_path / 'x'), client)),
    ]
    with distributed.get_task_stream(client) as stream:
        for error, message, run in refused:
            with pytest.raises(error, match=message):
                run()
    assert stream.data == []
    assert [key for key, _ in source.iter_walk('d00/below')] == []
    assert not (tmp_path / 'x').exists()


def test_a_part_that_fails_names_its_keys_and_the_rest_is_copied(
    client, bucket, s3_client, tmp_path, fill
):
    """Local disk cannot hold 'both' as a file and a folder: that key's part
    fails, named with its files pending; every other file is copied."""
    from flowserv_fsspec.cluster import copy_on_cluster
    files = fill(s3_client, bucket, 'src', 200)
    source, target = S3Volume(bucket, 'src'), LocalVolume(tmp_path / 'local')
    with pytest.raises(TransferError) as raised:
        copy_on_cluster(None, source, None, target, client, retries=0)
    error = raised.value
    assert error.key == 'both'
    assert sorted(error.pending) == ['both', 'both/in']
    assert sorted(error.done) == sorted(set(files) - {'both', 'both/in'})
    assert {key for key, _ in target.iter_walk(None)} == set(files) - {'both', 'both/in'}


def test_the_command_line_copies_on_a_cluster(
    client, bucket, s3_client, tmp_path, fill, digests, cli
):
    """``cp --dask ADDRESS`` copies an S3 folder on the running cluster (a
    part that fails is named, exit code 1); ``--dask local`` starts worker
    processes of its own; a dry run is not offered on a cluster."""
    files = fill(s3_client, bucket, 'src', 40)
    address = client.scheduler.address
    out = cli('cp', '--dask', address, f's3://{bucket}/src', f's3://{bucket}/copy')
    assert f'copied {len(files)} file(s)' in out
    assert digests(s3_client, bucket, 'copy') == digests(s3_client, bucket, 'src')
    out = cli('cp', '--dask', address, f's3://{bucket}/src', str(tmp_path / 'a'), code=1)
    assert "'both'" in out and f'{len(files) - 2} of {len(files)} files copied' in out
    cli('cp', '--dask', 'local', f's3://{bucket}/src/d01', str(tmp_path / 'b'))
    assert sorted(os.listdir(tmp_path / 'b')) == sorted(os.listdir(tmp_path / 'a' / 'd01'))
    out = cli('cp', '-n', '--dask', 'local', str(tmp_path / 'a'), str(tmp_path / 'c'), code=1)
    assert '--dry-run' in out and not (tmp_path / 'c').exists()


def test_a_worker_killed_mid_copy_loses_nothing(
    client, bucket, s3_client, fill, digests, killed_mid
):
    """SIGKILL to a worker while it runs a part of the copy: the scheduler
    runs that part again on a worker that lives, and the copy completes with
    every object whole (server-side copies: nothing partial can be left)."""
    from flowserv_fsspec.cluster import copy_on_cluster
    files = fill(s3_client, bucket, 'src', 400)
    source, target = S3Volume(bucket, 'src'), S3Volume(bucket, 'dst')
    done = killed_mid(client, 'copy', lambda: copy_on_cluster(None, source, None, target, client))
    assert sorted(done) == sorted(files)
    assert digests(s3_client, bucket, 'dst') == digests(s3_client, bucket, 'src')
