"""copy_files and StorageVolume.copy: the flowserv semantics, across backends."""

import pytest

from flowserv_fsspec import copy_files
from flowserv_fsspec.testing import files_of, put


RUN = {'code/run.py': b'print(1)', 'data/in.txt': b'input', 'results/out/a.txt': b'A' * 5000}
PAIRS = [('memory', 's3'), ('s3', 'local'), ('local', 'memory'), ('s3', 's3'), ('local', 'local')]


@pytest.fixture(params=PAIRS, ids=['->'.join(p) for p in PAIRS])
def volumes(request, make_volume):
    source, target = (make_volume(name) for name in request.param)
    for key, data in RUN.items():
        put(source, key, data)
    return source, target


def test_whole_volume(volumes):
    source, target = volumes
    assert source.copy(None, target) == sorted(RUN)
    assert files_of(target) == RUN


def test_folder_files_keep_their_path_below_the_folder(volumes):
    source, target = volumes
    assert copy_files('results', source, 'archive', target) == ['archive/out/a.txt']
    assert copy_files('data/', source, None, target) == ['in.txt']
    assert files_of(target) == {'archive/out/a.txt': RUN['results/out/a.txt'], 'in.txt': b'input'}


def test_single_file_to_destination_or_own_key(volumes):
    source, target = volumes
    assert copy_files('code/run.py', source, 'bin/main.py', target) == ['bin/main.py']
    assert copy_files(['data/in.txt'], source, None, target) == ['data/in.txt']
    assert files_of(target) == {'bin/main.py': b'print(1)', 'data/in.txt': b'input'}


def test_list_of_sources_and_verbose_output(volumes, capsys):
    source, target = volumes
    copied = source.copy(['code', 'data'], target, dst='run', verbose=True)
    assert copied == ['run/run.py', 'run/in.txt']
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f'Copy files from {source.describe()} to {target.describe()}'
    assert out[1:] == ['copied code/run.py to run/run.py', 'copied data/in.txt to run/in.txt']


def test_missing_source_copies_nothing(volumes):
    source, target = volumes
    assert copy_files('no/such/folder', source, 'x', target) == []
    assert files_of(target) == {}
