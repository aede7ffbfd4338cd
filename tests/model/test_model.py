"""Model-based tests: random sequences of volume operations, checked against a
plain dict, on memory, local and S3 (moto server); random keys never escape."""

import io

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from flowserv_fsspec import IOBuffer
from flowserv_fsspec.errors import InvalidKeyError
from flowserv_fsspec.keys import key_to_path, normalize_key
from flowserv_fsspec.testing import files_of


SEGMENTS = st.sampled_from(['a', 'b', 'ab', 'a.txt', 'd0', 'd00', 'x y', 'ü'])
KEYS = st.lists(SEGMENTS, min_size=1, max_size=3).map('/'.join)
DATA = st.binary(max_size=64)


def model_delete(model, key):
    for k in [k for k in model if k == key or k.startswith(key + '/')]:
        del model[k]


def conflicts(model, key):
    """A key that is a file and a folder at once cannot exist on file systems."""
    return any(k.startswith(key + '/') or key.startswith(k + '/') for k in model)


@pytest.mark.parametrize('backend', ['memory', 'local', 's3'])
def test_volume_behaves_like_a_dict(backend, make_volume):
    volume = make_volume(backend)
    other = make_volume(backend)

    class VolumeMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            volume.erase()
            other.erase()
            self.model = {}

        @rule(key=KEYS, data=DATA)
        def store(self, key, data):
            if conflicts(self.model, key):
                return
            volume.store(IOBuffer(io.BytesIO(data)), key)
            self.model[key] = data

        @rule(key=KEYS)
        def delete(self, key):
            volume.delete(key)
            model_delete(self.model, key)

        @rule(key=KEYS)
        def load(self, key):
            if key in self.model:
                with volume.load(key).open() as f:
                    assert f.read() == self.model[key]

        @rule(key=KEYS)
        def walk(self, key):
            expected = sorted(k for k in self.model if k == key or k.startswith(key + '/'))
            assert [k for k, _ in volume.walk(key)] == expected

        @rule(key=KEYS)
        def folder(self, key):
            sub = volume.get_store_for_folder(key)
            prefix = key + '/'
            expected = {k[len(prefix):]: v for k, v in self.model.items() if k.startswith(prefix)}
            assert files_of(sub) == expected

        @rule(key=KEYS)
        def copy_out_and_back(self, key):
            other.erase()
            copied = volume.copy(key, other, dst='c')
            assert sorted(files_of(other)) == sorted(copied)

        @invariant()
        def same_files(self):
            assert files_of(volume) == self.model

    run_state_machine_as_test(VolumeMachine, settings=settings(
        settings.default, deadline=None, suppress_health_check=list(HealthCheck)
    ))


@given(st.text(max_size=20))
@settings(deadline=None)
def test_random_keys_never_escape_the_root(key):
    root = '/volume/root'
    try:
        normal = normalize_key(key)
    except InvalidKeyError:
        return
    path = key_to_path(root, normal)
    assert path.startswith(root + '/')
    assert '..' not in path.split('/') and '' not in path[1:].split('/')
