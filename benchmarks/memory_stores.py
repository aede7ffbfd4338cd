"""Per-file cost of stores into ``memory://`` as the memory filesystem fills.

Run: ``python benchmarks/memory_stores.py [--files 1000 10000]``. For each
count, a fresh memory filesystem receives that many files through a volume
(store), then the whole set is copied memory -> memory and local -> memory,
then the first copy is erased. Prints seconds and microseconds per file:
flat per-file figures mean the cost does not grow with the number of files
held (the generic write scanned every file on each store: 10,000 files
memory -> memory took 72 s; fsspec's memory ``rm`` scans every file for each
folder: erasing 5,000 files took 11.4 s).
"""

import argparse
import io
import shutil
import tempfile
import time
import uuid

from flowserv_fsspec import IOBuffer, LocalVolume, copy_files, from_url


def timed(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(files: int, tmp: str) -> None:
    name = uuid.uuid4().hex
    source = from_url(f'memory://{name}/src')
    local = LocalVolume(f'{tmp}/{name}')
    payload = b'x' * 100

    def fill():
        for i in range(files):
            source.store(IOBuffer(io.BytesIO(payload)), f'd{i % 100}/f{i}.txt')
            local.store(IOBuffer(io.BytesIO(payload)), f'd{i % 100}/f{i}.txt')

    rows = [
        ('store (memory + local)', timed(fill)),
        ('copy memory -> memory', timed(lambda: copy_files(
            None, source, None, from_url(f'memory://{name}/dst')))),
        ('copy local -> memory', timed(lambda: copy_files(
            None, local, None, from_url(f'memory://{name}/fromlocal')))),
        ('erase memory', timed(from_url(f'memory://{name}/dst').erase)),
    ]
    for label, seconds in rows:
        print(f'{files:>7} files  {label:<24} {seconds:8.2f} s  '
              f'{seconds / files * 1e6:8.1f} us/file')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, nargs='+', default=[1000, 10000])
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    try:
        for files in args.files:
            run(files, tmp)
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
