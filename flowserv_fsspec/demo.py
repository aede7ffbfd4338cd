"""The main job on an embedded default: a sample workflow run copied
local -> S3 -> S3 -> local through moto's S3 server on 127.0.0.1, with the
requests each step cost and a sha256 check of every file at the end.
"""

import hashlib
import os
import sys
import tempfile
import time
from typing import Dict

from flowserv_fsspec.base import StorageVolume, copy_files
from flowserv_fsspec.errors import MissingExtraError
from flowserv_fsspec.registry import from_url
from flowserv_fsspec.sync import sha256


def sample_run(basedir: str, files: int) -> Dict[str, str]:
    """Write a sample workflow run folder; return sha256 of every file by key.

    Parameters
    ----------
    basedir: string
        Folder to write the run into.
    files: int
        Number of small log files besides code, data and results.

    Returns
    -------
    dict
    """
    contents = {
        'code/helloworld.py': b'import sys\nprint("Hello", sys.argv[1])\n',
        'data/names.txt': b'Alice\nBob\nClaire\n',
        'results/greetings.txt': b'Hello Alice\nHello Bob\nHello Claire\n',
        'results/model.bin': os.urandom(2 * 1024 * 1024),
    }
    for i in range(files):
        contents[f'results/steps/step-{i:03d}.log'] = os.urandom(4096)
    checksums = dict()
    for key, data in contents.items():
        filename = os.path.join(basedir, *key.split('/'))
        os.makedirs(os.path.dirname(filename), exist_ok=True)
        with open(filename, 'wb') as f:
            f.write(data)
        checksums[key] = hashlib.sha256(data).hexdigest()
    return checksums


def checksums_of(volume: StorageVolume) -> Dict[str, str]:
    """Get the sha256 of every file of a volume, by key.

    Parameters
    ----------
    volume: flowserv_fsspec.base.StorageVolume
        The volume.

    Returns
    -------
    dict
    """
    return {key: sha256(handle) for key, handle in volume.walk(None)}


def run_demo(files: int = 100) -> int:
    """Copy a sample run local -> S3 -> S3 -> local on an embedded moto server.

    Parameters
    ----------
    files: int, default=100
        Number of small log files in the sample run.

    Returns
    -------
    int
        0 when every file arrived intact, else 1.
    """
    try:
        from flowserv_fsspec.testing.moto_server import MotoS3Server
    except ImportError as ex:  # moto: pip install 'flowserv-fsspec[demo]'
        raise MissingExtraError('demo', (ex.name or 'moto').split('.')[0], 'demo') from None
    with MotoS3Server() as server, tempfile.TemporaryDirectory() as tmp:
        print(f'moto S3 server on {server.endpoint_url}')
        bucket = server.create_buckets('flowserv-demo')[0]
        options = server.storage_options()
        expected = sample_run(os.path.join(tmp, 'run'), files)
        steps = [
            ('local -> S3', from_url(f's3://{bucket}/runs/run-1', **options)),
            ('S3 -> S3 (other prefix)', from_url(f's3://{bucket}/archive/run-1', **options)),
            ('S3 -> local', from_url(os.path.join(tmp, 'restored'))),
        ]
        source = from_url(os.path.join(tmp, 'run'))
        print(f"{'step':<26} {'files':>6} {'bytes':>12} {'seconds':>9} {'requests':>9}")
        for name, target in steps:
            assert server.counter is not None
            server.counter.reset()
            start = time.perf_counter()
            keys = copy_files(None, source, None, target)
            elapsed, requests = time.perf_counter() - start, server.counter.requests
            size = sum(handle.size() for _, handle in target.walk(None))
            print(f'{name:<26} {len(keys):>6} {size:>12,} {elapsed:>9.3f} {requests:>9}')
            source = target
        restored = checksums_of(source)
        if restored != expected:
            names = expected.keys() | restored.keys()
            bad = sorted(k for k in names if expected.get(k) != restored.get(k))
            print(f"checksum mismatch: {', '.join(bad[:5])}", file=sys.stderr)
            return 1
        print(f'verified sha256 of {len(restored)} files: local -> S3 -> S3 -> local is identical')
    return 0
