"""The command line refuses what would lose data, says so in one line, and
never shows a traceback: mistyped sync sources, overlapping locations,
empty folders, broken pipes, Ctrl-C, silent servers, bad counts."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_cli import SCRIPT, run

from flowserv_fsspec.testing.silent_server import SilentServer


@pytest.fixture
def mirror(tmp_path):
    base = tmp_path / 'mirror'
    base.mkdir()
    (base / 'keep.txt').write_bytes(b'precious')
    return base


def one_line(err):
    assert 'Traceback' not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize('source', ['typo', 'file.txt'])
def test_sync_delete_from_a_mistyped_source_deletes_nothing(tmp_path, mirror, source):
    (tmp_path / 'file.txt').write_bytes(b'a file')
    _, err = run('sync', '--delete', str(tmp_path / source), str(mirror), check_code=1)
    assert source in one_line(err)
    assert (mirror / 'keep.txt').read_bytes() == b'precious'


def test_sync_delete_from_an_empty_folder_needs_the_flag(tmp_path, mirror):
    (tmp_path / 'empty').mkdir()
    _, err = run('sync', '--delete', str(tmp_path / 'empty'), str(mirror), check_code=1)
    assert 'source is empty' in one_line(err) and (mirror / 'keep.txt').exists()
    out, _ = run('sync', '--delete', '--allow-empty-source', str(tmp_path / 'empty'), str(mirror))
    assert out.strip() == 'copy 0, delete 1, unchanged 0' and not (mirror / 'keep.txt').exists()


def test_sync_max_delete(tmp_path, mirror):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'new.txt').write_bytes(b'new')
    _, err = run('sync', '--delete', '--max-delete', '0', str(tmp_path / 'src'), str(mirror),
                 check_code=1)
    assert 'maximum of 0' in one_line(err)
    assert sorted(os.listdir(mirror)) == ['keep.txt']


def test_sync_of_overlapping_locations_is_refused(tmp_path, bucket, s3_client):
    s3_client.pipe({f'{bucket}/p/child/a.txt': b'a', f'{bucket}/p/b.txt': b'b'})
    for src, dst in (('p/child', 'p'), ('p', 'p/child')):
        _, err = run('sync', '--delete', f's3://{bucket}/{src}', f's3://{bucket}/{dst}',
                     check_code=1)
        assert 'overlap' in one_line(err)
    assert sorted(s3_client.find(bucket)) == [f'{bucket}/p/b.txt', f'{bucket}/p/child/a.txt']


def test_ls_and_du_of_an_empty_folder(tmp_path):
    (tmp_path / 'empty').mkdir()
    out, _ = run('ls', str(tmp_path / 'empty'))
    assert out == ''
    out, _ = run('du', '--json', str(tmp_path / 'empty'))
    assert json.loads(out) == {'files': 0, 'bytes': 0}


def test_a_key_that_is_a_file_and_a_folder_on_s3(tmp_path, bucket, s3_client):
    s3_client.pipe({f'{bucket}/k': b'file', f'{bucket}/k/a': b'below', f'{bucket}/k0': b'x'})
    out, _ = run('ls', f's3://{bucket}/k')
    assert out.splitlines() == ['k', 'a']
    out, _ = run('du', '--json', f's3://{bucket}/k')
    assert json.loads(out) == {'files': 2, 'bytes': 9}
    out, _ = run('cp', f's3://{bucket}/k', str(tmp_path / 'out'))  # a folder, and the file k
    assert out.strip() == f"copied 2 file(s) to {tmp_path / 'out'}"
    assert sorted(os.listdir(tmp_path / 'out')) == ['a', 'k']
    out, _ = run('rm', '-r', '--json', f's3://{bucket}/k')
    assert json.loads(out) == {'deleted': ['k', 'k/a']}
    assert s3_client.find(bucket) == [f'{bucket}/k0']


def test_rm_of_the_working_folder_is_refused(tmp_path):
    (tmp_path / 'work').mkdir()
    (tmp_path / 'work' / 'a.txt').write_bytes(b'a')
    proc = subprocess.run([SCRIPT, 'rm', '-r', '.'], cwd=tmp_path / 'work',
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert 'current working folder' in one_line(proc.stderr.decode())
    assert (tmp_path / 'work' / 'a.txt').exists()


def test_cat_into_a_closed_pipe(tmp_path):
    (tmp_path / 'big.txt').write_bytes(b'line\n' * 4_000_000)
    proc = subprocess.Popen([SCRIPT, 'cat', str(tmp_path / 'big.txt')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(5) == b'line\n'
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert 'output closed' in one_line(err)


def test_ctrl_c_during_cp_exits_130(tmp_path):
    """The copy waits on a server that never answers; Ctrl-C ends it."""
    with SilentServer() as silent:
        proc = subprocess.Popen(
            [SCRIPT, 'cp', f'http://{silent.address}/data.bin', str(tmp_path / 'out.bin')],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert 'interrupted' in one_line(err.decode())
    assert not (tmp_path / 'out.bin').exists()


def test_timeout_option_against_a_silent_server(s3_server):
    with SilentServer() as silent:
        start = time.monotonic()
        _, err = run('--timeout', '1', 'ls', f'http://{silent.address}/d/x', check_code=1)
    assert "storage error on 'x'" in one_line(err) and 'Timeout' in err
    assert time.monotonic() - start < 60  # a hang guard, not a speed goal


@pytest.mark.parametrize('args', [
    ('demo', '--files', '-5'), ('sync', '--max-delete', '-1', 'a', 'b'),
    ('--timeout', '0', 'ls', '.'), ('cleanup', '--older-than', 'soon', '.'),
])
def test_bad_counts_are_usage_errors(args):
    run(*args, check_code=2)


def test_cleanup_command(tmp_path):
    base = tmp_path / 'v'
    (base / 'd').mkdir(parents=True)
    (base / 'd' / 'a.txt').write_bytes(b'kept')
    part = base / 'd' / '.a.txt.0123456789ab.part'
    part.write_bytes(b'partial')
    os.utime(part, (time.time() - 7200, time.time() - 7200))
    out, _ = run('cleanup', '--dry-run', '--older-than', '1h', str(base))
    assert out.splitlines()[-1] == 'would remove 1 leftover(s)' and part.exists()
    out, _ = run('cleanup', '--json', str(base), '--older-than', '30m')
    assert [x['key'] for x in json.loads(out)['removed']] == ['d/.a.txt.0123456789ab.part']
    assert not part.exists() and (base / 'd' / 'a.txt').exists()


def test_rm_of_a_chained_url_from_inside_is_refused(tmp_path, monkeypatch):
    (tmp_path / 'w' / 'inner').mkdir(parents=True)
    (tmp_path / 'w' / 'inner' / 'a.txt').write_bytes(b'a')
    monkeypatch.chdir(tmp_path / 'w' / 'inner')
    _, err = run('rm', '-r', '--yes', f'simplecache::file://{tmp_path}/w', check_code=1)
    assert 'current working folder' in one_line(err)
    assert (tmp_path / 'w' / 'inner' / 'a.txt').read_bytes() == b'a'


BAD_LOCATIONS = [
    'sftp://h:99999/d', 'ssh://h:abc/d', 'sftp://[::1/d', 'webdav://h:99999/d', 'dav://h:x/d',
    'webdav://[::1/d', 'http://h:99999/d', 'https://[::1/d',
]
BAD_DOCUMENTS = {
    'unhashable-key': {'type': 's3', 'args': [{'key': ['bucket'], 'value': 'b'}]},
    'nul-in-basedir': {'type': 'fs', 'args': [{'key': 'basedir', 'value': '/tmp/a\x00b'}]},
    'sftp-port': {'type': 'sftp', 'args': [
        {'key': 'basedir', 'value': '/d'}, {'key': 'hostname', 'value': '127.0.0.1'},
        {'key': 'port', 'value': 99999}]},
}


@pytest.mark.parametrize('location', BAD_LOCATIONS + sorted(BAD_DOCUMENTS) + ['deep-nesting'])
def test_a_bad_location_is_one_line(tmp_path, location):
    if location in BAD_DOCUMENTS:
        (tmp_path / 'doc.json').write_text(json.dumps(BAD_DOCUMENTS[location]))
        location = f'@{tmp_path}/doc.json'
    elif location == 'deep-nesting':
        (tmp_path / 'doc.json').write_text('[' * 100000 + ']' * 100000)
        location = f'@{tmp_path}/doc.json'
    _, err = run('ls', location, check_code=1)
    one_line(err)


def test_the_command_line_shows_locations_without_passwords(ftp_server, tmp_path):
    from flowserv_fsspec.testing.ftp_server import PASSWORD
    (tmp_path / 'a.txt').write_bytes(b'a')
    out, err = run('cp', str(tmp_path / 'a.txt'), ftp_server.url('cli/'))
    assert f'copied 1 file(s) to ftp://127.0.0.1:{ftp_server.port}/cli/' in out
    outputs = [out, err]
    outputs += run('rm', ftp_server.url('cli'), check_code=1)
    assert 'ftp://127.0.0.1' in outputs[-1] and 'is a folder' in outputs[-1]
    outputs += run('cp', '--dry-run', str(tmp_path / 'a.txt'), ftp_server.url('cli/b.txt'))
    outputs += run('sync', '--dry-run', str(tmp_path), ftp_server.url('cli'))
    assert not [text for text in outputs if PASSWORD in text]


def test_a_single_file_on_ftp_is_a_file(ftp_server, tmp_path):
    (tmp_path / 'plain.txt').write_bytes(b'plain')
    run('cp', str(tmp_path / 'plain.txt'), ftp_server.url('single/'))
    out, _ = run('ls', ftp_server.url('single/plain.txt'))
    assert out.splitlines() == ['plain.txt']
    run('cp', ftp_server.url('single/plain.txt'), str(tmp_path / 'back') + '/')
    assert (tmp_path / 'back' / 'plain.txt').read_bytes() == b'plain'
    out, _ = run('rm', ftp_server.url('single/plain.txt'))
    assert out.strip() == 'deleted 1 file(s)'


@pytest.mark.parametrize('delay', [0.1, 0.15, 0.2, 0.3, 0.5])
def test_ctrl_c_at_any_moment_is_one_line(tmp_path, delay):
    """Ctrl-C while the program starts (imports) or works: exit 130 and one
    line, never a traceback of the program. (Python's own start and the lines
    of pip's script before it imports the package are out of its reach: such
    a traceback names no file of the package.)"""
    with SilentServer() as silent:
        proc = subprocess.Popen(
            [SCRIPT, 'cp', f'http://{silent.address}/data.bin', str(tmp_path / 'out.bin')],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    if 'Traceback' in err.decode():  # Python's start (or pip's script): no frame of the package
        assert '/flowserv_fsspec/' not in err.decode()
    else:
        assert proc.returncode in (130, -signal.SIGINT), err.decode()
        assert proc.returncode != 130 or 'interrupted' in one_line(err.decode())


def test_no_tqdm_no_noise(tmp_path):
    """The README's '.[demo]' install has no tqdm: a copy on a terminal shows
    no bar and no 'Exception ignored' from fsspec's TqdmCallback."""
    import pty
    (tmp_path / 'a.txt').write_bytes(b'a')
    code = ('import sys; sys.modules["tqdm"] = None\n'
            'from flowserv_fsspec.cli import main\n'
            f'sys.exit(main(["cp", {str(tmp_path / "a.txt")!r}, {str(tmp_path / "b.txt")!r}]))\n')
    primary, secondary = pty.openpty()
    proc = subprocess.run([sys.executable, '-c', code], stderr=secondary, stdout=subprocess.PIPE,
                          timeout=120)
    os.close(secondary)
    err = b''
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(primary)
    assert proc.returncode == 0 and (tmp_path / 'b.txt').read_bytes() == b'a'
    assert b'Exception ignored' not in err and b'Traceback' not in err


def test_demo_without_moto_names_the_extra():
    code = ('import sys; sys.modules["moto"] = None\n'
            'from flowserv_fsspec.cli import main\n'
            'sys.exit(main(["demo"]))\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "flowserv-fsspec[demo]" in one_line(proc.stderr)


def test_ls_escapes_names_as_ls_b_does(tmp_path):
    for name in ('a\nb', 'x\x1b[31my', 'back\\slash', 'plain'):
        (tmp_path / name).write_bytes(b'.')
    out, _ = run('ls', str(tmp_path))
    assert sorted(out.splitlines()) == sorted(['a\\nb', 'x\\033[31my', 'back\\\\slash', 'plain'])
    assert '\x1b' not in out
    out, _ = run('ls', '--json', str(tmp_path))
    assert {item['key'] for item in json.loads(out)} == {'a\nb', 'x\x1b[31my', 'back\\slash',
                                                          'plain'}
