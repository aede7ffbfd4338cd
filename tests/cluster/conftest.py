"""Fixtures of the cluster tests: a cluster of worker processes, and trees
of objects with odd keys."""

import concurrent.futures
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest


@pytest.fixture(scope='module')
def client(s3_server):
    """Two worker processes of one thread each, started with the AWS
    environment that points at moto (each worker's own credentials); one
    cluster a module, closed with it (a cluster left running allocates in
    its threads, which the memory tests of other modules would count)."""
    distributed = pytest.importorskip('distributed')
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address='127.0.0.1:0',
    ) as cluster, distributed.Client(cluster) as client:
        yield client


ODD = ['g/[a]*?.txt', 'g/{b,c}.txt', 'sp ace/x y', 'ü/é.txt', 'both', 'both/in', 'n/x/y/z.txt']
"""Keys with glob characters, blanks and unicode, nested, and a key that is
an object and a prefix at once."""


def fill_tree(s3_client, bucket, prefix, count, odd=tuple(ODD)):
    """Objects below a prefix: ``count`` in 12 folders, and ``odd``."""
    files = {f'd{i % 12:02d}/s{i % 5}/f{i:05d}': b'%d' % i * (i % 9) for i in range(count)}
    files.update({key: key.encode() for key in odd})
    s3_client.pipe({f'{bucket}/{prefix}/{key}': data for key, data in files.items()})
    return files


def digests_of(s3_client, bucket, prefix):
    """sha256 of every object below a prefix, by key below it (read at once,
    each path literally: ``cat`` would take 'g/[a]*?.txt' for a pattern)."""
    paths = s3_client.find(f'{bucket}/{prefix}/')
    found = s3_client.cat_ranges(paths, [None] * len(paths), [None] * len(paths))
    cut = len(f'{bucket}/{prefix}/')
    return {path[cut:]: hashlib.sha256(data).hexdigest() for path, data in zip(paths, found)}


@pytest.fixture
def fill():
    """``fill(s3_client, bucket, prefix, count)``: a tree of objects (see ``fill_tree``)."""
    return fill_tree


@pytest.fixture
def digests():
    """``digests(s3_client, bucket, prefix)``: sha256 by key (see ``digests_of``)."""
    return digests_of


def kill_a_busy_worker(client, kind, run):
    """Run work on the cluster and SIGKILL a worker as soon as it runs a
    task whose key names ``kind``; wait until the scheduler lists it no
    more (its nanny starts another); give the work's result."""
    pids = client.run(os.getpid)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        working = pool.submit(run)
        deadline = time.monotonic() + 60
        busy = []
        while not busy:
            assert time.monotonic() < deadline and not working.done(), f'no {kind} task started'
            busy = [worker for worker, keys in client.processing().items()
                    if any(kind in str(key) for key in keys)]
            time.sleep(0.01)
        os.kill(pids[busy[0]], signal.SIGKILL)
        result = working.result(timeout=300)
    while busy[0] in client.scheduler_info()['workers']:
        assert time.monotonic() < deadline + 60, 'the killed worker is still listed'
        time.sleep(0.05)
    return result


@pytest.fixture
def killed_mid():
    """``killed_mid(client, kind, run)``: see ``kill_a_busy_worker``."""
    return kill_a_busy_worker


def run_cli(*args, code=0):
    """Run the console script, expecting an exit code; give its output."""
    script = shutil.which('flowserv-fsspec', path=os.path.dirname(sys.executable))
    proc = subprocess.run([script, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == code, proc.stderr
    return proc.stdout + proc.stderr


@pytest.fixture
def cli():
    """``cli(*args, code=0)``: see ``run_cli``."""
    return run_cli
