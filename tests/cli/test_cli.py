"""The installed ``flowserv-fsspec`` console script, run in a subprocess:
output, exit codes and effects on local folders and on the moto S3 server."""

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from flowserv_fsspec import S3Bucket


SCRIPT = shutil.which('flowserv-fsspec', path=os.path.dirname(sys.executable))


def run(*args, check_code=0, stdin=None):
    assert SCRIPT is not None, 'install the package: pip install -e .[test]'
    proc = subprocess.run([SCRIPT, *args], capture_output=True, timeout=120, input=stdin)
    assert proc.returncode == check_code, proc.stderr.decode()
    return proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture
def run_dir(tmp_path):
    base = tmp_path / 'run'
    for key, data in {'a.txt': b'alpha', 'sub/b.txt': b'bravo!', 'sub2/c.txt': b'c'}.items():
        (base / key).parent.mkdir(parents=True, exist_ok=True)
        (base / key).write_bytes(data)
    return base


def test_ls_folders_recursive_and_long(run_dir):
    out, _ = run('ls', str(run_dir))
    assert out.splitlines() == ['a.txt', 'sub/', 'sub2/']
    out, _ = run('ls', '-R', str(run_dir))
    assert out.splitlines() == ['a.txt', 'sub/b.txt', 'sub2/c.txt']
    out, _ = run('ls', '-l', str(run_dir))
    assert out.splitlines() == ['           5  a.txt', '           6  sub/', '           1  sub2/']
    out, _ = run('ls', '-l', str(run_dir / 'sub'))
    assert out.splitlines() == ['           6  b.txt']
    out, _ = run('ls', str(run_dir / 'a.txt'))
    assert out.splitlines() == ['a.txt']
    out, _ = run('ls', '--json', str(run_dir))
    assert json.loads(out) == [
        {'key': 'a.txt', 'type': 'file', 'size': 5},
        {'key': 'sub/', 'type': 'folder', 'size': 6},
        {'key': 'sub2/', 'type': 'folder', 'size': 1},
    ]


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
    out, _ = run('ls', '-R', f's3://{bucket}/runs')
    assert out.splitlines() == ['r1/a.txt', 'r1/sub/b.txt', 'r1/sub2/c.txt']


def test_cp_single_file_to_name_or_folder(run_dir, tmp_path, bucket, s3_client):
    run('cp', str(run_dir / 'a.txt'), f's3://{bucket}/x/renamed.txt')
    run('cp', str(run_dir / 'sub' / 'b.txt'), f's3://{bucket}/x/')
    assert sorted(s3_client.find(bucket)) == [f'{bucket}/x/b.txt', f'{bucket}/x/renamed.txt']
    assert s3_client.cat_file(f'{bucket}/x/renamed.txt') == b'alpha'


def test_rm_file_and_folder_keeps_siblings(run_dir):
    _, err = run('rm', str(run_dir / 'sub'), check_code=1)
    assert 'use rm -r' in err and (run_dir / 'sub' / 'b.txt').exists()
    out, _ = run('rm', '-r', str(run_dir / 'sub'))
    assert out.strip() == 'deleted 1 file(s)'
    out, _ = run('rm', '--json', str(run_dir / 'a.txt'))
    assert json.loads(out) == {'deleted': ['a.txt']}
    assert sorted(p.name for p in run_dir.rglob('*') if p.is_file()) == ['c.txt']


def test_rm_of_a_whole_volume_asks_unless_yes(tmp_path, bucket, s3_client):
    s3_client.pipe({f'{bucket}/a.txt': b'1', f'{bucket}/d/b.txt': b'2'})
    _, err = run('rm', '-r', f's3://{bucket}', check_code=1, stdin=b'n\n')
    assert 'Delete all 2 files of AWS S3 storage bucket' in err and 'not confirmed' in err
    _, err = run('rm', '-r', f's3://{bucket}', check_code=1, stdin=b'')
    assert len(s3_client.find(bucket)) == 2
    run('rm', '-r', f's3://{bucket}', stdin=b'y\n')
    assert s3_client.find(bucket) == [] and s3_client.exists(bucket)
    s3_client.pipe({f'{bucket}/c.txt': b'3'})
    out, _ = run('rm', '-r', '--yes', f's3://{bucket}')
    assert out.strip() == 'deleted 1 file(s)' and s3_client.find(bucket) == []


def test_du_and_describe(run_dir, bucket):
    out, _ = run('du', str(run_dir))
    assert out.strip() == '3 files, 12 bytes (12 B)'
    out, _ = run('du', '--json', str(run_dir / 'sub'))
    assert json.loads(out) == {'files': 1, 'bytes': 6}
    out, _ = run('describe', f's3://{bucket}/runs/r1')
    doc = json.loads(out)
    assert doc['type'] == 's3' and doc['args'][:2] == [
        {'key': 'bucket', 'value': bucket}, {'key': 'prefix', 'value': 'runs/r1'}
    ]
    assert 'testing' not in out  # the credentials of the environment


def test_document_files_name_volumes(run_dir, tmp_path, bucket, s3_client):
    doc = tmp_path / 'vol.json'
    doc.write_text(json.dumps(S3Bucket(bucket, identifier='v')))
    run('cp', '-q', str(run_dir), f'@{doc}:runs/r2')
    assert sorted(s3_client.find(f'{bucket}/runs/r2')) == [
        f'{bucket}/runs/r2/{key}' for key in ['a.txt', 'sub/b.txt', 'sub2/c.txt']
    ]
    out, _ = run('cat', f'@{doc}:runs/r2/sub/b.txt')
    assert out == 'bravo!'
    out, _ = run('ls', f'@{doc}:runs')
    assert out.splitlines() == ['r2/']
    out, _ = run('describe', f'@{doc}')
    assert json.loads(out) == json.loads(doc.read_text())
    _, err = run('ls', f'@{tmp_path}/nope.json', check_code=1)
    assert 'nope.json' in err


def test_cp_dry_run_copies_nothing(run_dir, tmp_path):
    out, _ = run('cp', '--dry-run', str(run_dir), str(tmp_path / 'dst'))
    assert out.splitlines() == [
        'would copy a.txt -> a.txt', 'would copy sub/b.txt -> sub/b.txt',
        'would copy sub2/c.txt -> sub2/c.txt', f"would copy 3 file(s) to {tmp_path / 'dst'}",
    ]
    assert not (tmp_path / 'dst').exists()
    out, _ = run('cp', '--json', str(run_dir / 'sub'), str(tmp_path / 'dst'))
    assert json.loads(out) == {'copied': ['b.txt'], 'dry_run': False}
    assert (tmp_path / 'dst' / 'b.txt').read_bytes() == b'bravo!'


def test_sync_copies_what_differs_and_deletes_with_delete(run_dir, bucket, s3_client):
    url = f's3://{bucket}/mirror'
    out, _ = run('sync', str(run_dir), url)
    assert out.strip() == 'copy 3, delete 0, unchanged 0'
    (run_dir / 'a.txt').write_bytes(b'ALPHA+')  # other size
    (run_dir / 'sub' / 'b.txt').write_bytes(b'BRAVO!')  # same size, other bytes
    s3_client.pipe_file(f'{bucket}/mirror/extra.txt', b'x')
    out, _ = run('sync', '--size-only', str(run_dir), url)
    assert out.strip() == 'copy 1, delete 0, unchanged 2'  # the same-size edit is missed
    out, _ = run('sync', '--dry-run', str(run_dir), url)
    assert out.splitlines()[0] == 'would copy sub/b.txt'  # seen by its modification time
    out, _ = run('sync', '--checksum', '--delete', '--dry-run', str(run_dir), url)
    assert out.splitlines() == [
        'would copy sub/b.txt', 'would delete extra.txt',
        'would copy 1, would delete 1, unchanged 2',
    ]
    assert s3_client.cat_file(f'{bucket}/mirror/sub/b.txt') == b'bravo!'
    out, _ = run('sync', '--json', '--checksum', '--delete', str(run_dir), url)
    assert json.loads(out) == {
        'copied': ['sub/b.txt'], 'deleted': ['extra.txt'], 'unchanged': 2, 'dry_run': False
    }
    assert sorted(s3_client.find(f'{bucket}/mirror')) == [
        f'{bucket}/mirror/{key}' for key in ['a.txt', 'sub/b.txt', 'sub2/c.txt']
    ]
    assert s3_client.cat_file(f'{bucket}/mirror/sub/b.txt') == b'BRAVO!'


@pytest.mark.parametrize('args,named', [
    (('cat', '{run}/missing.txt'), "'missing.txt'"),
    (('ls', 'nosuchproto://x/y'), "'nosuchproto://x'"),
    (('rm', '-r', '{run}/missing'), "'missing'"),
    (('ls', '{run}/missing'), "'missing'"),
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
    from flowserv_fsspec.commands import progress_bar

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


def test_chained_urls_and_glob_names(tmp_path):
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as z:
        z.writestr('inner/data[1].csv', b'one')
        z.writestr('inner/data1.csv', b'plain')
    out, _ = run('cat', f'zip://inner/data[1].csv::file://{tmp_path}/a.zip')
    assert out == 'one'
    out, _ = run('ls', f'zip://inner::file://{tmp_path}/a.zip')
    assert out.splitlines() == ['data1.csv', 'data[1].csv']
    run('cp', f'zip://inner/data[1].csv::file://{tmp_path}/a.zip', str(tmp_path / 'out.csv'))
    assert (tmp_path / 'out.csv').read_bytes() == b'one'
