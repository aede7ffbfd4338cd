"""The S3 request path: CPU per request of botocore's, of this library's lean
path (``backends/s3_requests.py``) and of obstore's (the Rust object_store
binding, if installed), on ``rclone serve s3``; and the guarantees of obstore
that a trial found broken, checked again.

    python benchmarks/request_path.py [--requests 1000] [--exit-runs 40]

Each path lists, HEADs and reads (ranged GET of 16 bytes) the same
``--requests`` objects, 32 requests in flight, in this process: the table
gives wall seconds and CPU milliseconds per request (``getrusage``, every
thread of the process). obstore's checks: a request in a forked child after
the parent used it (10 s limit), short runs that end in a crash at exit
(``--exit-runs``), a listing of a bucket that holds a key with a ``..``
segment (moto's server, which stores any key), a ranged GET on
``rclone serve s3`` (which answers 200), and the error of a missing bucket.
"""

import argparse
import asyncio
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from fsspec.asyn import sync

from flowserv_fsspec.backends.s3_client import s3_filesystem
from flowserv_fsspec.testing.moto_server import MOTO_CREDENTIALS, MotoS3Server
from flowserv_fsspec.testing.rclone_server import KEY, SECRET, RcloneS3Server


CONCURRENCY = 32
BUCKET = 'bench'


def cpu() -> float:
    """CPU seconds of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, requests: int, work: Callable[[], Any]) -> None:
    """Run ``work`` and print its wall time and CPU per request."""
    wall, used = time.time(), cpu()
    work()
    wall, used = time.time() - wall, cpu() - used
    print(f'| {name} | {wall:.2f} s | {1000 * used / requests:.3f} ms |', flush=True)


async def bounded(calls: List[Callable[[], Any]]) -> List[Any]:
    """Await the calls, ``CONCURRENCY`` at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Any]) -> Any:
        async with gate:
            return await call()
    return await asyncio.gather(*(one(call) for call in calls))


def s3fs_path(name: str, endpoint: str, keys: List[str], lean: bool) -> Any:
    """List, HEAD and read the keys through this library's S3 client (given
    back: closed at exit, on its own loop).
    """
    fs = s3_filesystem({
        'endpoint_url': endpoint, 'key': KEY, 'secret': SECRET, 'lean_requests': lean,
        'skip_instance_cache': True,
    })
    fs.call_s3('list_objects_v2', Bucket=BUCKET, MaxKeys=1)  # the client exists

    def listing() -> None:
        params: Dict[str, Any] = {'Bucket': BUCKET}
        while True:
            page = fs.call_s3('list_objects_v2', **params)
            if not page.get('IsTruncated'):
                return
            params['ContinuationToken'] = page['NextContinuationToken']

    async def get(key: str) -> bytes:
        answer = await fs._call_s3('get_object', Bucket=BUCKET, Key=key, Range='bytes=0-15')
        try:
            data: bytes = await answer['Body'].read()
        finally:
            answer['Body'].close()
        return data

    measure(f'{name}: LIST (per key)', len(keys), listing)
    measure(f'{name}: HEAD', len(keys), lambda: sync(fs.loop, bounded, [
        lambda key=key: fs._call_s3('head_object', Bucket=BUCKET, Key=key) for key in keys
    ]))
    measure(f'{name}: ranged GET', len(keys), lambda: sync(fs.loop, bounded, [
        lambda key=key: get(key) for key in keys
    ]))
    return fs


def obstore_store(endpoint: str, bucket: str = BUCKET) -> Any:
    """An obstore S3 store of a bucket on a local server."""
    from obstore.store import S3Store
    return S3Store(
        bucket, endpoint=endpoint, access_key_id=KEY, secret_access_key=SECRET,
        region='us-east-1', client_options={'allow_http': True},
    )


def obstore_path(endpoint: str, keys: List[str]) -> None:
    """List, HEAD and read (whole: its ranged GET fails here) with obstore."""
    import obstore
    store = obstore_store(endpoint)

    async def get(key: str) -> bytes:
        answer = await obstore.get_async(store, key)
        return bytes(await answer.bytes_async())

    measure('obstore: LIST (per key)', len(keys), lambda: [
        page for page in obstore.list(store, chunk_size=1000)
    ])
    measure('obstore: HEAD', len(keys), lambda: asyncio.run(bounded([
        lambda key=key: obstore.head_async(store, key) for key in keys
    ])))
    measure('obstore: GET (whole)', len(keys), lambda: asyncio.run(bounded([
        lambda key=key: get(key) for key in keys
    ])))


PRELUDE = f"""
import os, signal, sys, obstore
from obstore.store import S3Store
def store(endpoint, bucket={BUCKET!r}, key={KEY!r}, secret={SECRET!r}):
    return S3Store(bucket, endpoint=endpoint, access_key_id=key, secret_access_key=secret,
                   region='us-east-1', client_options={{'allow_http': True, 'timeout': '10s'}})
s = store(sys.argv[1])
"""
"""What every check's process starts with: ``s``, the store of the bucket."""

CHECKS = {
    'ranged GET on rclone serve s3': (
        'print(bytes(obstore.get_range(s, "checks/a", start=2, end=5)))'
    ),
    'missing bucket': 'print(list(obstore.list(store(sys.argv[1], "no-such-bucket"))))',
    'a request in a forked child after the parent used it': (
        'obstore.get(s, "checks/a").bytes()\n'
        'child = os.fork()\n'
        'if child == 0:\n'
        '    signal.alarm(10)\n'
        '    obstore.get(s, "checks/a").bytes()\n'
        '    os._exit(0)\n'
        'print("child status", os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))'
    ),
}
"""obstore's checks on rclone's S3 server: name -> code run after PRELUDE."""


def run_check(code: str, endpoint: str, *args: str) -> str:
    """Run a check in its own process: the last line it printed, or how it ended."""
    try:
        proc = subprocess.run(
            [sys.executable, '-c', PRELUDE + code, endpoint, *args], capture_output=True,
            text=True, timeout=60,
        )
    except subprocess.TimeoutExpired:
        return 'no answer in 60 s'
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    errors = [line for line in lines if re.match(r'[\w.]*(Error|Exception):', line)]
    return f'exit {proc.returncode}: {(errors or lines or [""])[0][:160]}'


def obstore_checks(endpoint: str, exit_runs: int) -> None:
    """Check obstore's guarantees that an earlier trial found broken, each
    in its own process (a hang or a crash ends only that check).
    """
    print('- put:', run_check('obstore.put(s, "checks/a", b"0123456789"); print("ok")', endpoint))
    for name, code in CHECKS.items():
        print(f'- {name}:', run_check(code, endpoint))
    codes: Dict[str, int] = {}
    for run in range(exit_runs):  # half of the runs end in an error (exit 1)
        ending = 'obstore.get(s, "checks/a").bytes()' + ('; obstore.get(s, "x")' if run % 2 else '')
        code = run_check(ending, endpoint).split(':')[0]
        codes[code] = codes.get(code, 0) + 1
    print(f'- how {exit_runs} short runs ended (half in an error):', codes)
    with MotoS3Server() as moto:
        moto.create_buckets('odd-keys')
        fs = s3_filesystem(dict(moto.storage_options(), skip_instance_cache=True))
        fs.pipe({'odd-keys/a/../d': b'1', 'odd-keys/a/b': b'2'})
        print("- listing a bucket that holds the key 'a/../d' (moto):", run_check(
            'print([i["path"] for page in obstore.list(store(sys.argv[1], "odd-keys", '
            'sys.argv[2], sys.argv[2])) for i in page])',
            moto.endpoint_url, MOTO_CREDENTIALS['key'],
        ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=1000)
    parser.add_argument('--exit-runs', type=int, default=40)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix='request-path-'))
    try:
        (root / BUCKET).mkdir()
        keys = [f'k/{i:06d}' for i in range(args.requests)]
        for key in keys:  # rclone serve s3 serves the folder's files as objects
            (root / BUCKET / key).parent.mkdir(parents=True, exist_ok=True)
            (root / BUCKET / key).write_bytes(b'0123456789abcdef')
        with RcloneS3Server(root) as server:
            print(f'{args.requests} objects on rclone serve s3, {CONCURRENCY} requests in flight\n')
            print('| path: request | wall | CPU a request |\n| --- | ---: | ---: |')
            clients = [  # noqa: F841 (kept until the end)
                s3fs_path('botocore (lean_requests=False)', server.endpoint_url, keys, False),
                s3fs_path('lean path', server.endpoint_url, keys, True),
            ]
            try:
                import obstore
            except ImportError:
                print('\nobstore is not installed: pip install obstore')
                return
            obstore_path(server.endpoint_url, keys)
            print(f'\nobstore {obstore.__version__}: its guarantees')
            obstore_checks(server.endpoint_url, args.exit_runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
