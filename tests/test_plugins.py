"""Volume plugins: a tiny third-party package, found through its entry point
in the ``flowserv_fsspec.volumes`` group, is selected by URL and by document,
in this process and by the installed console script."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from flowserv_fsspec import Volume, from_url, registry
from flowserv_fsspec.errors import InvalidConfigurationError
from flowserv_fsspec.testing import VolumeContract, files_of, put


PLUGIN = '''
"""A third-party volume: the files of a memory filesystem below /tiny/<name>."""

import fsspec

from flowserv_fsspec import FsspecVolume


class TinyVolume(FsspecVolume):
    protocols = ('tiny',)
    doc_type = 'tiny'

    def __init__(self, name, identifier=None):
        self.name = name
        super().__init__(fsspec.filesystem('memory'), root=f'/tiny/{name}', identifier=identifier)

    @classmethod
    def from_url(cls, url, identifier=None, **storage_options):
        return cls(url.split('://', 1)[1], identifier=identifier)

    @classmethod
    def from_dict(cls, doc):
        return cls(doc['args'][0]['value'], identifier=doc.get('id'))

    def to_dict(self):
        args = [{'key': 'name', 'value': self.name}]
        return {'type': 'tiny', 'id': self.identifier, 'args': args}

    def get_store_for_folder(self, key, identifier=None):
        self._resolve(key)  # the key rules
        return TinyVolume(f'{self.name}/{key.strip("/")}', identifier=identifier)
'''


def install_plugin(path, module='tiny_volume_plugin', target='TinyVolume', source=PLUGIN):
    """Lay out an installed distribution: its module and its dist-info with
    the entry point, in a folder on sys.path."""
    (path / f'{module}.py').write_text(textwrap.dedent(source))
    info = path / f'{module}-0.1.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n')
    (info / 'entry_points.txt').write_text(
        f'[{registry.ENTRY_POINT_GROUP}]\ntiny = {module}:{target}\n'
    )


@pytest.fixture
def fresh_registry(monkeypatch):
    """The registry as before loading plugins (restored after the test)."""
    monkeypatch.setattr(registry, '_BY_PROTOCOL', dict(registry._BY_PROTOCOL))
    monkeypatch.setattr(registry, '_BY_DOC_TYPE', dict(registry._BY_DOC_TYPE))
    monkeypatch.setattr(registry, '_PLUGINS_LOADED', [False])


def test_plugin_selected_by_url_and_document(tmp_path, monkeypatch, fresh_registry):
    install_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    volume = from_url('tiny://box', identifier='t1')
    assert type(volume).__name__ == 'TinyVolume'
    put(volume, 'a/b.txt', b'hello')
    again = Volume(volume.to_dict())
    assert type(again).__name__ == 'TinyVolume' and again.identifier == 't1'
    assert files_of(again) == {'a/b.txt': b'hello'}
    # Built-in classes keep their protocols and types.
    assert type(from_url('memory://x')).__name__ == 'MemoryVolume'


def test_broken_plugin_names_itself_and_spares_builtins(tmp_path, monkeypatch, fresh_registry):
    install_plugin(tmp_path, module='broken_plugin', source='raise ImportError("no numpy")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert type(from_url(str(tmp_path))).__name__ == 'LocalVolume'
    with pytest.raises(InvalidConfigurationError, match='broken_plugin:TinyVolume.*no numpy'):
        Volume({'type': 'tiny', 'args': []})


def test_console_script_finds_the_plugin(tmp_path):
    install_plugin(tmp_path)
    script = shutil.which('flowserv-fsspec', path=os.path.dirname(sys.executable))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([script, 'describe', 'tiny://box'], capture_output=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout) == {
        'type': 'tiny', 'id': json.loads(proc.stdout)['id'],
        'args': [{'key': 'name', 'value': 'box'}]
    }


class TestTinyVolumeContract(VolumeContract):
    """A volume class defined outside the package, found through its entry
    point, passes the whole contract suite (as docs/plugins.md shows)."""

    @pytest.fixture
    def volume(self, tmp_path, monkeypatch, fresh_registry):
        install_plugin(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        volume = from_url(f'tiny://{tmp_path.name}')
        assert type(volume).__name__ == 'TinyVolume'
        return volume
