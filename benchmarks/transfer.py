"""Transfer benchmark: this library vs flowserv-core 0.9.4 vs raw s3fs bulk calls.

Run: ``python benchmarks/transfer.py [--quick] [--files N] [--json FILE]``
(needs the ``test`` extra; flowserv-core is optional). moto's S3 server runs
in its own process on 127.0.0.1 behind a counter of requests and payload
bytes; every workload reports requests, bytes up/down through the client and
seconds. The 256 MiB transfers run in a child process each, which reports its
peak RSS over its own baseline.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid


MIB = 1024 * 1024
IMPLS = ('flowserv_fsspec', 'flowserv-core', 's3fs bulk')


# -- the server and its counts ------------------------------------------------------

def start_server():
    proc = subprocess.Popen([sys.executable, '-m', 'flowserv_fsspec.testing.moto_server'],
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def counts(endpoint, reset=False):
    req = urllib.request.Request(endpoint + '/_counts', method='DELETE' if reset else 'GET')
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def s3fs_client(endpoint):
    from s3fs import S3FileSystem
    return S3FileSystem(skip_instance_cache=True, use_listings_cache=False, key='testing',
                        secret='testing', endpoint_url=endpoint)


# -- workloads ------------------------------------------------------------------------

def read_1k(handle):
    """Read 1 KiB through the handle's streamed reader where it has one."""
    with getattr(handle, 'stream', handle.open)() as f:
        return f.read(1024)


def workloads(impl, bucket, endpoint, localdir, outdir):
    """The small-file workloads of one implementation: name -> callable."""
    if impl == 'flowserv_fsspec':
        from flowserv_fsspec import LocalVolume, S3Volume, copy_files
        vol, loc, out = S3Volume(bucket), LocalVolume(localdir), LocalVolume(outdir)
    elif impl == 'flowserv-core':
        from flowserv.volume.base import copy_files
        from flowserv.volume.fs import FileSystemStorage
        from flowserv.volume.s3 import S3Volume
        vol, loc, out = S3Volume(bucket), FileSystemStorage(localdir), FileSystemStorage(outdir)
    else:
        fs = s3fs_client(endpoint)
        return {
            'upload N local->S3': lambda: fs.put(localdir + '/', f'{bucket}/up', recursive=True),
            'walk N + size()': lambda: sum(
                i['size'] for i in fs.find(f'{bucket}/up', detail=True).values()),
            'copy N S3->S3, one bucket': lambda: fs.copy(
                f'{bucket}/up/', f'{bucket}/copy', recursive=True),
            'download N S3->local': lambda: fs.get(f'{bucket}/up/', outdir + '/', recursive=True),
            'size() of 64 MiB object': lambda: fs.size(f'{bucket}/big64.bin'),
            '1 KiB read of 128 MiB object': lambda: fs.open(f'{bucket}/big128.bin').read(1024),
            'delete N': lambda: fs.rm(f'{bucket}/up', recursive=True),
        }
    return {
        'upload N local->S3': lambda: copy_files(None, loc, 'up', vol),
        'walk N + size()': lambda: sum(h.size() for _, h in vol.walk('up')),
        'copy N S3->S3, one bucket': lambda: copy_files('up', vol, 'copy', vol),
        'download N S3->local': lambda: copy_files('up', vol, None, out),
        'size() of 64 MiB object': lambda: vol.load('big64.bin').size(),
        # open() gives flowserv's whole-file BytesIO; this library streams with stream().
        '1 KiB read of 128 MiB object': lambda: read_1k(vol.load('big128.bin')),
        'delete N': lambda: vol.delete('up'),
    }


def make_local_files(path, n):
    for i in range(n):
        sub = os.path.join(path, f'd{i % 10}')
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f'f{i:05d}.txt'), 'wb') as f:
            f.write(os.urandom(4096))


# -- 256 MiB transfers in a child process (peak RSS over the child's baseline) --------

def child(args):
    fs = s3fs_client(args.endpoint)
    if args.impl == 'flowserv_fsspec':
        from flowserv_fsspec import LocalVolume, S3Volume, copy_files
        vol, loc = S3Volume(args.bucket), LocalVolume(args.dir)
    elif args.impl == 'flowserv-core':
        from flowserv.volume.base import copy_files
        from flowserv.volume.fs import FileSystemStorage
        from flowserv.volume.s3 import S3Volume
        vol, loc = S3Volume(args.bucket), FileSystemStorage(args.dir)
    if args.impl == 's3fs bulk':
        run = {'up': lambda: fs.put_file(os.path.join(args.dir, 'big256.bin'),
                                         f'{args.bucket}/big256.bin'),
               'down': lambda: fs.get_file(f'{args.bucket}/big256.bin',
                                           os.path.join(args.dir, 'down256.bin'))}
    elif args.impl == 'flowserv-core':
        # flowserv's walk() of a single S3 key finds nothing: load() and store() instead.
        run = {'up': lambda: vol.store(loc.load('big256.bin'), 'big256.bin'),
               'down': lambda: loc.store(vol.load('big256.bin'), 'down256.bin')}
    else:
        run = {'up': lambda: copy_files('big256.bin', loc, 'big256.bin', vol),
               'down': lambda: copy_files('big256.bin', vol, 'down256.bin', loc)}
    fs.ls(args.bucket)  # warm up: the client and its connection exist before the baseline
    sampler = RssSampler()
    start = time.perf_counter()
    run[args.child]()
    seconds = time.perf_counter() - start
    print(json.dumps({'seconds': seconds, 'rss_growth_mib': sampler.stop() / MIB}))


class RssSampler:
    """Peak resident memory over the value at creation, sampled every 5 ms."""

    def __init__(self):
        self.base = self.peak = self.rss()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @staticmethod
    def rss():
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    def run(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.rss())

    def stop(self):
        self.done.set()
        self.thread.join()
        return max(self.peak, self.rss()) - self.base


def big_transfer(impl, op, bucket, endpoint, tmp):
    counts(endpoint, reset=True)
    out = subprocess.run(
        [sys.executable, __file__, '--child', op, '--impl', impl, '--bucket', bucket,
         '--endpoint', endpoint, '--dir', tmp], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]), **counts(endpoint))


# -- main -------------------------------------------------------------------------------

def report(impl, workload, row):
    extra = f"  peak RSS +{row['rss_growth_mib']:.0f} MiB" if 'rss_growth_mib' in row else ''
    print(f"{impl:<16} {workload:<30} {row['requests']:>6} req {row['bytes_in']:>12,} B up "
          f"{row['bytes_out']:>12,} B down {row['seconds']:>7.2f} s{extra}", flush=True)
    return dict(row, impl=impl, workload=workload)


def run_impl(impl, n, endpoint, local, tmp, quick):
    fs = s3fs_client(endpoint)
    bucket = 'bench-' + uuid.uuid4().hex[:10]
    fs.mkdir(bucket)
    fs.pipe_file(f'{bucket}/big64.bin', b'\0' * (64 * MIB))
    fs.pipe_file(f'{bucket}/big128.bin', b'\1' * (128 * MIB))
    rows = []
    for name, func in workloads(impl, bucket, endpoint, local, os.path.join(tmp, bucket)).items():
        counts(endpoint, reset=True)
        start = time.perf_counter()
        func()
        row = dict(counts(endpoint), seconds=time.perf_counter() - start)
        rows.append(report(impl, name.replace('N', str(n)), row))
    if not quick:
        bigdir = os.path.join(tmp, 'big-' + bucket)
        os.makedirs(bigdir)
        with open(os.path.join(bigdir, 'big256.bin'), 'wb') as f:
            for _ in range(256):
                f.write(os.urandom(MIB))
        for op in ('up', 'down'):
            row = big_transfer(impl, op, bucket, endpoint, bigdir)
            rows.append(report(impl, f'256 MiB {op}load', row))
        shutil.rmtree(bigdir)
    return rows


def print_table(rows, impls):
    print('\n| workload | ' + ' | '.join(impls) + ' |')
    print('| --- |' + ' --- |' * len(impls))
    for workload in dict.fromkeys(r['workload'] for r in rows):
        cells = []
        for impl in impls:
            r = next(r for r in rows if r['workload'] == workload and r['impl'] == impl)
            payload = r['bytes_in'] + r['bytes_out']
            cell = f"{r['seconds']:.2f} s, {r['requests']} req, {payload:,} B"
            if 'rss_growth_mib' in r:
                cell += f", RSS +{r['rss_growth_mib']:.0f} MiB"
            cells.append(cell)
        print(f'| {workload} | ' + ' | '.join(cells) + ' |')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='N=200, no 256 MiB transfers')
    parser.add_argument('--files', type=int, default=None, help='N (default 1200)')
    parser.add_argument('--json', default='benchmarks/results/transfer.json')
    parser.add_argument('--only', choices=IMPLS, help='measure one implementation')
    for name in ('child', 'impl', 'bucket', 'endpoint', 'dir'):
        parser.add_argument('--' + name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    n = args.files or (200 if args.quick else 1200)
    try:
        import flowserv.volume.s3  # noqa: F401
        impls = IMPLS
    except ImportError:
        impls = tuple(i for i in IMPLS if i != 'flowserv-core')
    if args.only:
        impls = (args.only,)
    proc, endpoint = start_server()
    # flowserv-core and the child processes take the endpoint from the AWS environment.
    os.environ.update(AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing',
                      AWS_DEFAULT_REGION='us-east-1', AWS_ENDPOINT_URL=endpoint)
    tmp = tempfile.mkdtemp()
    try:
        make_local_files(os.path.join(tmp, 'local'), n)
        rows = [row for impl in impls
                for row in run_impl(impl, n, endpoint, os.path.join(tmp, 'local'), tmp, args.quick)]
    finally:
        proc.terminate()
        shutil.rmtree(tmp)
    print_table(rows, impls)
    os.makedirs(os.path.dirname(args.json) or '.', exist_ok=True)
    with open(args.json, 'w') as f:
        json.dump({'files': n, 'rows': rows}, f, indent=2)
    print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
