"""``volume.as_filesystem()`` on every backend: an fsspec filesystem rooted at
the volume that pandas reads and writes through, with no way out of the root
and no credentials in its JSON form or repr."""

import io

import pandas as pd
import pytest
from fsspec import AbstractFileSystem

from flowserv_fsspec import LocalVolume, S3Volume, from_url
from flowserv_fsspec.errors import InvalidKeyError
from flowserv_fsspec.testing import files_of, put


def test_pandas_reads_and_writes_through_the_volume(volume):
    fs = volume.as_filesystem()
    frame = pd.DataFrame({'run': ['a', 'b'], 'score': [1.5, 2.5]})
    fs.makedirs('data', exist_ok=True)  # as fsspec wants on filesystems with folders
    with fs.open('data/x.csv', 'w') as f:
        frame.to_csv(f, index=False)
    assert volume.load('data/x.csv').open().read() == frame.to_csv(index=False).encode()
    put(volume, 'data/y[1].csv', b'run,score\nc,3.5\n')
    assert sorted(fs.find('')) == ['data/x.csv', 'data/y[1].csv']
    assert sorted(fs.ls('data', detail=False)) == ['data/x.csv', 'data/y[1].csv']
    assert fs.isfile('/data/x.csv') and fs.isdir('data')
    read = pd.concat([pd.read_csv(fs.open(path)) for path in sorted(fs.find('data'))])
    assert list(read['run']) == ['a', 'b', 'c']
    # Its JSON form is the volume's document: built again, it shows the same files.
    again = AbstractFileSystem.from_json(fs.to_json())
    assert again.cat_file('data/y[1].csv') == b'run,score\nc,3.5\n'


def test_no_path_leads_out_of_the_root(volume, outside):
    outside('escape.txt', b'outside')
    fs = volume.as_filesystem()
    for path in ('../escape.txt', 'a/../../escape.txt', 'a//b'):
        with pytest.raises(InvalidKeyError):
            fs.cat_file(path)
        with pytest.raises(InvalidKeyError):
            fs.pipe_file(path, b'overwritten')
    assert outside.fs.cat_file(f'{outside.parent}/escape.txt') == b'outside'
    assert files_of(volume) == {}


def test_credentials_stay_out_of_the_filesystems_json_and_repr(bucket, s3_server):
    options = dict(s3_server.storage_options(), secret='the-secret-key')
    fs = S3Volume(bucket, 'p', storage_options=options).as_filesystem()
    fs.pipe_file('x.txt', b'1')
    assert 'the-secret-key' not in fs.to_json() + repr(fs) + str(fs)
    assert AbstractFileSystem.from_json(fs.to_json()).cat_file('x.txt') == b'1'
    assert io.BytesIO(fs.cat_file('x.txt')).read() == b'1'


def test_a_glob_character_in_the_root_is_literal(volume):
    """``rm``, ``cat``, ``glob`` and ``cp`` expand patterns below the root,
    never the root's own characters: ``x[1]`` is not ``x1``."""
    inside, sibling = volume.get_store_for_folder('x[1]'), volume.get_store_for_folder('x1')
    put(inside, 'a.txt', b'in')
    put(sibling, 'a.txt', b'out')
    fs = inside.as_filesystem()
    assert fs.glob('*.txt') == ['a.txt']
    assert fs.cat('*.txt') == {'a.txt': b'in'}
    fs.copy('a*.txt', 'b.txt')
    fs.rm('a.txt')
    fs.rm('b*')
    assert files_of(inside) == {}
    assert files_of(sibling) == {'a.txt': b'out'}


@pytest.mark.parametrize('url', ['memory://proj[1]', 's3://{bucket}/runs[1]'])
def test_rm_of_a_url_root_with_a_glob_character(url, bucket, tmp_path):
    name = tmp_path.name
    inside = from_url(url.format(bucket=bucket) + name)
    outside = from_url(url.format(bucket=bucket).replace('[1]', '1') + name)
    for volume in (inside, outside):
        put(volume, 'x', b'data')
    inside.as_filesystem().rm('x')
    assert files_of(inside) == {} and files_of(outside) == {'x': b'data'}


def test_a_link_out_of_a_local_root_is_refused_through_patterns(tmp_path):
    (tmp_path / 'secret.txt').write_bytes(b'secret')
    (tmp_path / 'vol').mkdir()
    (tmp_path / 'vol' / 'flink').symlink_to(tmp_path / 'secret.txt')
    fs = LocalVolume(tmp_path / 'vol').as_filesystem()
    for read in (lambda: fs.cat('fl[i]nk'), lambda: fs.cat('*'),
                 lambda: fs.get('fl[i]nk', str(tmp_path / 'got')), lambda: fs.cat_file('flink')):
        with pytest.raises(InvalidKeyError, match='symbolic link'):
            read()
    assert not (tmp_path / 'got').exists()
