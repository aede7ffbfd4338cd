"""Errors travel: every error class of the library pickles with its message
and attributes (multiprocessing, dask and flowserv's workers send errors
between processes), flowserv-core is detected by importing it, and
programming errors are never dressed up as storage errors."""

import concurrent.futures
import importlib
import inspect
import os
import pickle
import pkgutil
import subprocess
import sys

import pytest

import flowserv_fsspec
from flowserv_fsspec.errors import TransferError, UnknownFileError, VolumeError
from flowserv_fsspec.translate import translate_errors, typed_error


def error_classes():
    """Every VolumeError subclass defined in the package (the testing
    servers' modules need their test extras and define none)."""
    for info in pkgutil.walk_packages(flowserv_fsspec.__path__, 'flowserv_fsspec.'):
        if '.testing' not in info.name:
            importlib.import_module(info.name)
    found, todo = set(), [VolumeError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


SAMPLES = {'done': ['a.txt', 'b/c.txt'], 'pending': ['d[1].txt'], 'cause': OSError('reset'),
           'value': {'port': 99999}}


def sample(cls):
    """An instance of an error class with an argument for each parameter."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return cls(*(SAMPLES.get(p.name, f'{p.name}-of-{cls.__name__}') for p in parameters))


@pytest.mark.parametrize('cls', error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_pickles_with_its_attributes(cls):
    error = sample(cls)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls
    assert str(again) == str(error) and again.args == error.args
    assert vars(again) == vars(error)


def test_the_error_classes_are_found():
    names = {cls.__name__ for cls in error_classes()}
    assert {'TransferError', 'UnknownFileError', 'StorageError', 'MissingExtraError'} <= names


def fail_in_a_worker(key):
    raise TransferError(key, 'source', 'target', ['done.txt'], [key], OSError('reset'))


def test_an_error_raised_in_another_process_arrives_whole():
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        with pytest.raises(TransferError) as info:
            pool.submit(fail_in_a_worker, 'x/y.txt').result()
    assert (info.value.key, info.value.done, info.value.pending) == (
        'x/y.txt', ['done.txt'], ['x/y.txt'])


def test_an_unpicklable_attribute_travels_as_its_repr():
    from flowserv_fsspec.errors import InvalidConfigurationError
    error = InvalidConfigurationError('S3 bucket', lambda: None, 'expected a name')
    assert pickle.loads(pickle.dumps(error)).value == repr(error.value)


def test_flowserv_is_detected_by_importing_it(tmp_path):
    """A folder named ``flowserv`` that is no package (the repository's
    tests/flowserv under pytest's default import mode) is not flowserv-core."""
    (tmp_path / 'flowserv').mkdir()
    code = (
        'import importlib.machinery, sys\n'
        'class OnlyTheFolder:\n'
        '    def find_spec(self, name, path=None, target=None):\n'
        '        if name == "flowserv" or name.startswith("flowserv."):\n'
        f'            return importlib.machinery.PathFinder.find_spec(name, [{str(tmp_path)!r}])\n'
        'sys.meta_path.insert(0, OnlyTheFolder())\n'
        'from flowserv_fsspec.errors import UnknownFileError\n'
        'print([c.__module__ for c in UnknownFileError.__mro__])\n'
    )
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert proc.returncode == 0, proc.stderr
    assert 'flowserv.error' not in proc.stdout and 'flowserv_fsspec.errors' in proc.stdout


class StatusError(Exception):
    status_code = 503


@pytest.mark.parametrize('make', [
    lambda: TypeError('bad argument'),
    lambda: AttributeError('no such attribute'),
    lambda: KeyError('missing key'),
])
@pytest.mark.parametrize('cause', [TimeoutError('slow'), StatusError('unavailable')])
def test_programming_errors_pass_unchanged(make, cause):
    """Raised while a timeout or an HTTP error was being handled, a
    programming error is still what it is."""
    error = make()
    error.__cause__ = cause
    assert typed_error(error, 'k', 'volume') is error
    with pytest.raises(type(error)):
        with translate_errors('k', 'volume'):
            raise error


def test_backend_errors_are_still_translated():
    missing = FileNotFoundError('gone')
    assert isinstance(typed_error(missing, 'k', 'volume'), UnknownFileError)
