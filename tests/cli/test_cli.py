"""The installed ``flowserv-fsspec`` console script, run in a subprocess:
output, exit codes and effects on local folders and on the moto S3 server."""

import io
import os
import shutil
import subprocess
import sys

import pytest


SCRIPT = shutil.which('flowserv-fsspec', path=os.path.dirname(sys.executable))


def run(*args, check_code=0):
    assert SCRIPT is not None, 'install the package: pip install -e .[test]'
    proc = subprocess.run([SCRIPT, *args], capture_output=True, timeout=120)
    assert proc.returncode == check_code, proc.stderr.decode()
    return proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture
def run_dir(tmp_path):
    base = tmp_path / 'run'
    for key, data in {'a.txt': b'alpha', 'sub/b.txt': b'bravo!', 'sub2/c.txt': b'c'}.items():
        (base / key).parent.mkdir(parents=True, exist_ok=True)
        (base / key).write_bytes(data)
    return base


def test_ls_and_ls_long(run_dir):
    out, _ = run('ls', str(run_dir))
    assert out.splitlines() == ['a.txt', 'sub/b.txt', 'sub2/c.txt']
    out, _ = run('ls', '-l', str(run_dir / 'sub'))
    assert out.splitlines() == ['           6  b.txt']
    out, _ = run('ls', str(run_dir / 'a.txt'))
    assert out.splitlines() == ['a.txt']


def test_cat_writes_the_bytes(run_dir):
    out, _ = run('cat', f'file://{run_dir}/sub/b.txt')
    assert out == 'bravo!'


def test_cp_folder_local_to_s3_and_back(run_dir, tmp_path, bucket, s3_client):
    out, _ = run('cp', str(run_dir), f's3://{bucket}/runs/r1')
    assert out.strip() == f'copied 3 file(s) to s3://{bucket}/runs/r1'
    assert sorted(s3_client.find(bucket)) == [
        f'{bucket}/runs/r1/{key}' for key in ['a.txt', 'sub/b.txt', 'sub2/c.txt']
    ]
    run('cp', '-q', f's3://{bucket}/runs/r1/sub', str(tmp_path / 'back'))
    assert (tmp_path / 'back' / 'b.txt').read_bytes() == b'bravo!'
    out, _ = run('ls', f's3://{bucket}/runs')
    assert out.splitlines() == ['r1/a.txt', 'r1/sub/b.txt', 'r1/sub2/c.txt']


def test_cp_single_file_to_name_or_folder(run_dir, tmp_path, bucket, s3_client):
    run('cp', str(run_dir / 'a.txt'), f's3://{bucket}/x/renamed.txt')
    run('cp', str(run_dir / 'sub' / 'b.txt'), f's3://{bucket}/x/')
    assert sorted(s3_client.find(bucket)) == [f'{bucket}/x/b.txt', f'{bucket}/x/renamed.txt']
    assert s3_client.cat_file(f'{bucket}/x/renamed.txt') == b'alpha'


def test_rm_file_and_folder_keeps_siblings(run_dir):
    run('rm', str(run_dir / 'sub'))
    run('rm', str(run_dir / 'a.txt'))
    assert sorted(p.name for p in run_dir.rglob('*') if p.is_file()) == ['c.txt']


@pytest.mark.parametrize('args,named', [
    (('cat', '{run}/missing.txt'), "'missing.txt'"),
    (('ls', 'nosuchproto://x/y'), "'nosuchproto://x'"),
    (('rm', 's3://some-bucket'), "'s3://some-bucket'"),
    (('cat', 's3://no-such-bucket-cli/key.txt'), 'no-such-bucket-cli'),
])
def test_failures_exit_1_with_one_line_naming_what_failed(run_dir, s3_server, args, named):
    args = [a.format(run=run_dir) for a in args]
    out, err = run(*args, check_code=1)
    assert out == ''
    assert len(err.strip().splitlines()) == 1 and named in err


def test_usage_errors_exit_2():
    run('frobnicate', check_code=2)
    run('cp', 'only-one-arg', check_code=2)


def test_demo_copies_through_moto_and_verifies():
    out, _ = run('demo', '--files', '5')
    lines = out.splitlines()
    assert lines[0].startswith('moto S3 server on http://127.0.0.1:')
    steps = [line.split() for line in lines[2:5]]
    assert [int(step[-4]) for step in steps] == [9, 9, 9]
    assert lines[-1] == 'verified sha256 of 9 files: local -> S3 -> S3 -> local is identical'


def test_progress_bar_only_on_a_terminal_and_not_quiet(tmp_path):
    from flowserv_fsspec.cli import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert progress_bar(quiet=False, stream=io.StringIO()) is None
    assert progress_bar(quiet=True, stream=Terminal()) is None
    term = Terminal()
    bar = progress_bar(quiet=False, stream=term)
    bar.set_size(2048)
    bar.relative_update(2048)
    bar.close()
    assert '2.05k' in term.getvalue() and '100%' in term.getvalue()
