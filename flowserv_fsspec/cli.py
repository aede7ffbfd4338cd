"""The ``flowserv-fsspec`` command line.

A URL names a volume root (``s3://bucket``, ``memory://runs``, a local
folder) or a file or folder inside it (``s3://bucket/runs/r1/log.txt``).
Exit codes: 0 success, 1 failure (one line on stderr naming what failed),
2 usage error.
"""

import argparse
import hashlib
import os
import sys
import tempfile
import time
from typing import Dict, List, Optional, TextIO, Tuple

import fsspec
from fsspec.callbacks import Callback, TqdmCallback

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.errors import InvalidKeyError, VolumeError
from flowserv_fsspec.registry import from_url
from flowserv_fsspec.transfer import copy_files


LOCAL_PROTOCOLS = (None, 'file', 'local')


def split_url(url: str) -> Tuple[StorageVolume, str]:
    """Split a URL into the volume of its parent folder and the last key.

    A URL with a single path segment (``s3://bucket``, ``memory://runs``)
    names a volume root and gives the key ''.

    Parameters
    ----------
    url: string
        URL or local path.

    Returns
    -------
    tuple of (flowserv_fsspec.base.StorageVolume, string)
    """
    protocol, path = fsspec.core.split_protocol(url)
    if protocol in LOCAL_PROTOCOLS:
        path = os.path.abspath(path)
        if path == '/':
            return from_url(path), ''
    else:
        path = path.strip('/')
        if '/' not in path:
            return from_url(url), ''
    parent, _, name = path.rpartition('/')
    prefix = '' if protocol in LOCAL_PROTOCOLS else protocol + '://'
    return from_url(prefix + (parent or '/')), name


def walk_url(url: str) -> Tuple[StorageVolume, str, List]:
    """List the files at a URL: the volume, the key and the walk result."""
    volume, key = split_url(url)
    return volume, key, volume.walk(key)


def is_file(files: List, key: str) -> bool:
    """Whether a walk result names the single file ``key``."""
    return bool(key) and len(files) == 1 and files[0][0] == key


def cmd_ls(args: argparse.Namespace) -> int:
    """List the files below a URL, one key (relative to the URL) per line."""
    _, key, files = walk_url(args.url)
    for filekey, handle in files:
        name = filekey if is_file(files, key) or not key else filekey[len(key) + 1:]
        print(f'{handle.size():>12}  {name}' if args.long else name)
    return 0


def cmd_cat(args: argparse.Namespace) -> int:
    """Write a file's bytes to standard output."""
    volume, key = split_url(args.url)
    with volume.load(key).open() as f:
        while True:
            chunk = f.read(1024 * 1024)
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    """Delete a file, or a folder and everything below it."""
    volume, key = split_url(args.url)
    if not key:
        raise InvalidKeyError(args.url, 'names a whole volume; rm removes files and folders in one')
    volume.delete(key)
    return 0


def progress_bar(quiet: bool, stream: TextIO) -> Optional[Callback]:
    """Get a tqdm progress bar for a terminal (when tqdm is installed), else None."""
    if quiet or not stream.isatty():
        return None
    try:
        return TqdmCallback(tqdm_kwargs={'unit': 'B', 'unit_scale': True, 'file': stream})
    except ImportError:
        return None


def cmd_cp(args: argparse.Namespace) -> int:
    """Copy a file or folder from one URL to another."""
    source, key, files = walk_url(args.src)
    if is_file(files, key):
        if args.dst.endswith('/'):
            target, dstkey = from_url(args.dst), key.rpartition('/')[2]
        else:
            target, dstkey = split_url(args.dst)
    else:
        target, dstkey = from_url(args.dst), None
    bar = progress_bar(args.quiet, sys.stderr)
    try:
        copied = copy_files(key, source, dstkey, target, callback=bar)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(f'copied {len(copied)} file(s) to {args.dst}')
    return 0


def sample_run(basedir: str, files: int) -> Dict[str, str]:
    """Write a sample workflow run folder; return sha256 of every file by key."""
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
    """sha256 of every file of a volume, by key, read in streamed chunks."""
    result = dict()
    for key, handle in volume.walk(None):
        digest = hashlib.sha256()
        with handle.open() as f:
            for chunk in iter(lambda: f.read(1024 * 1024), b''):
                digest.update(chunk)
        result[key] = digest.hexdigest()
    return result


def cmd_demo(args: argparse.Namespace) -> int:
    """Copy a sample run local -> S3 -> S3 -> local on an embedded moto server."""
    from flowserv_fsspec.moto_server import MotoS3Server
    with MotoS3Server() as server, tempfile.TemporaryDirectory() as tmp:
        print(f'moto S3 server on {server.endpoint_url}')
        bucket = server.create_buckets('flowserv-demo')[0]
        options = server.storage_options()
        expected = sample_run(os.path.join(tmp, 'run'), args.files)
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
            keys = expected.keys() | restored.keys()
            bad = sorted(k for k in keys if expected.get(k) != restored.get(k))
            print(f"checksum mismatch: {', '.join(bad[:5])}", file=sys.stderr)
            return 1
        print(f'verified sha256 of {len(restored)} files: local -> S3 -> S3 -> local is identical')
    return 0


def parser() -> argparse.ArgumentParser:
    """Build the argument parser of the command line."""
    p = argparse.ArgumentParser(
        prog='flowserv-fsspec', description='Storage volumes on any fsspec filesystem.'
    )
    sub = p.add_subparsers(dest='command', required=True)
    ls = sub.add_parser('ls', help='list the files below a URL')
    ls.add_argument('url')
    ls.add_argument('-l', '--long', action='store_true', help='show sizes in bytes')
    ls.set_defaults(func=cmd_ls)
    cat = sub.add_parser('cat', help="print a file's contents")
    cat.add_argument('url')
    cat.set_defaults(func=cmd_cat)
    rm = sub.add_parser('rm', help='delete a file or a folder')
    rm.add_argument('url')
    rm.set_defaults(func=cmd_rm)
    cp = sub.add_parser('cp', help='copy a file or a folder between any two volumes')
    cp.add_argument('src')
    cp.add_argument('dst', help="destination file, or folder (a folder source, or a trailing '/')")
    cp.add_argument('-q', '--quiet', action='store_true', help='no summary, no progress bar')
    cp.set_defaults(func=cmd_cp)
    demo = sub.add_parser('demo', help='copy a sample run through an embedded S3 server')
    demo.add_argument('--files', type=int, default=100, help='number of small log files')
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv: list of string, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except VolumeError as ex:
        print(f'flowserv-fsspec {args.command}: {ex}', file=sys.stderr)
        return 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
