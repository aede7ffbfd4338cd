"""flowserv-core 0.9.4 running on this library: a workflow installed and run
through flowserv's client API, its run store on local disk or on S3 (the moto
server) and its step in a worker's local folder; the compatibility points
that flowserv's own code relies on."""

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from flowserv.client import Flowserv
from flowserv.config import env as flowserv_env
from flowserv.controller.worker.manager import Subprocess
from flowserv.volume.fs import FSFile

from flowserv_fsspec import FStore, LocalVolume, S3Bucket, S3Volume, use_in_flowserv


TEMPLATE = Path(__file__).parent.parent / 'workflow' / 'wordcount'
WORDS = (TEMPLATE / 'data' / 'words.txt').read_text().split()


def run_workflow(tmp_path, filestore, words=None):
    """Install and run the word-count workflow (its input: a handle, by
    default flowserv's FSFile of the template's words); the step runs in a
    worker volume of its own. Returns the client, workflow id and run."""
    env = flowserv_env().basedir(str(tmp_path / 'flowserv')).volume(filestore)
    client = Flowserv(env=env.run_sync().open_access(), clear=True)
    engine_config = {
        'workers': [Subprocess(identifier='local', volume='worker')],
        'volumes': [FStore(tmp_path / 'worker', identifier='worker')],
        'workflow': [{'step': 'count', 'worker': 'local'}],
    }
    workflow_id = client.install(source=str(TEMPLATE), engine_config=engine_config)
    run = client.open(workflow_id).start_run(
        {'words': words or FSFile(str(TEMPLATE / 'data' / 'words.txt'))}
    )
    return client, workflow_id, run


@pytest.mark.parametrize('handle', ['IOBuffer', 'loaded'])
def test_flowservs_client_takes_this_librarys_handles(handle, tmp_path):
    """flowserv's client uploads its own handles only: this library's are
    its handles once the integration is on."""
    from flowserv.volume.base import IOBuffer as FlowservIOBuffer
    from flowserv.volume.base import IOHandle as FlowservIOHandle

    from flowserv_fsspec import IOBuffer
    use_in_flowserv()
    data = (TEMPLATE / 'data' / 'words.txt').read_bytes()
    words = IOBuffer(io.BytesIO(data)) if handle == 'IOBuffer' else LocalVolume(
        TEMPLATE / 'data').load('words.txt')
    assert isinstance(words, FlowservIOHandle)
    assert isinstance(IOBuffer(io.BytesIO(b'')), FlowservIOBuffer)
    _, _, run = run_workflow(tmp_path, FStore(tmp_path / 'store', 'fs'), words)
    assert run.is_success(), run.messages()
    assert json.loads(run.open_file('results/summary.json').read())['words'] == len(data.split())


@pytest.mark.parametrize('store', ['local', 's3'])
def test_workflow_runs_with_its_files_on_the_store(store, tmp_path, bucket):
    use_in_flowserv()
    use_in_flowserv()  # idempotent
    if store == 's3':
        filestore, volume = S3Bucket(bucket, 'flowserv', 'fs'), S3Volume(bucket, 'flowserv')
    else:
        filestore, volume = FStore(tmp_path / 'store', 'fs'), LocalVolume(tmp_path / 'store')
    client, workflow_id, run = run_workflow(tmp_path, filestore)
    assert run.is_success(), run.messages()
    # The results are in the run store: the worker's outputs were collected.
    results = volume.get_store_for_folder(f'runs/{run.run_id}/results')
    assert sorted(key for key, _ in results.walk(None)) == ['counts.txt', 'summary.json']
    summary = json.loads(results.load('summary.json').open().read())
    assert summary == {'words': len(WORDS), 'longest': max(WORDS, key=len)}
    # The leaderboard shows the run's values.
    with client.service() as api:
        ranking = api.workflows().get_ranking(workflow_id=workflow_id)['ranking']
    assert len(ranking) == 1 and ranking[0]['run']['id'] == run.run_id
    values = {r['name']: r['value'] for r in ranking[0]['results']}
    assert values == {'words': len(WORDS), 'longest': max(WORDS, key=len)}
    # The result archive downloads.
    archive = client.open(workflow_id).get_file(run_id=run.run_id).open()
    with tarfile.open(fileobj=archive, mode='r:gz') as tar:
        names = sorted(tar.getnames())
        counts = tar.extractfile('results/counts.txt').read().decode()
    assert names == ['results/counts.txt', 'results/summary.json']
    assert 'volumes 2' in counts.splitlines()
    assert isinstance(run.open_file('results/counts.txt'), io.BytesIO)


SWITCH = '''
import os, sys
from flowserv.client import Flowserv
from flowserv.config import env
from flowserv.volume.fs import FSFile
client = Flowserv(env=env().basedir(sys.argv[1]).run_sync().open_access(), clear=True)
workflow_id = client.install(source=sys.argv[2])
run = client.open(workflow_id).start_run({'words': FSFile(sys.argv[3])})
with client.service() as api:
    store = api.workflows().workflow_repo.fs if hasattr(api.workflows(), 'workflow_repo') else None
import flowserv.volume.factory as factory
print(run.is_success(), factory.Volume.__module__, type(client.service()._fs).__module__)
'''


def test_environment_switch_for_deployments(tmp_path):
    """FLOWSERV_BACKEND_MODULE/CLASS name this library's engine: flowserv
    imports it before its file store, and all volumes are this library's."""
    proc = subprocess.run(
        [sys.executable, '-c', SWITCH, str(tmp_path / 'fs'), str(TEMPLATE),
         str(TEMPLATE / 'data' / 'words.txt')],
        capture_output=True, text=True, timeout=300, env={
            **__import__('os').environ,
            'FLOWSERV_BACKEND_MODULE': 'flowserv_fsspec.inside_flowserv',
            'FLOWSERV_BACKEND_CLASS': 'SerialWorkflowEngine',
        })
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        'True', 'flowserv_fsspec.inside_flowserv', 'flowserv_fsspec.backends.local'
    ]


# -- the compatibility points flowserv's code relies on ---------------------------

def test_errors_are_flowserv_errors(tmp_path):
    import flowserv.error as fe

    from flowserv_fsspec import errors
    with pytest.raises(fe.UnknownFileError) as info:
        LocalVolume(tmp_path).load('missing.txt')
    assert isinstance(info.value, FileNotFoundError) and "'missing.txt'" in str(info.value)
    assert isinstance(errors.InvalidConfigurationError('x', 1, 'bad'), fe.InvalidConfigurationError)
    assert isinstance(errors.VolumeNotFoundError('vol'), fe.UnknownObjectError)
    assert isinstance(errors.InvalidKeyError('..', 'bad'), fe.InvalidArgumentError)
    assert isinstance(errors.AccessDeniedError('k', 'vol'), fe.UnauthorizedAccessError)
    assert isinstance(errors.UnsafeOperationError('x', 'y'), fe.ConstraintViolationError)
    transfer = errors.TransferError('k', 's', 't', [], ['k'], OSError('x'))
    assert isinstance(transfer, fe.FlowservError) and str(transfer) == transfer.message


def test_errors_without_flowserv_import_nothing_of_it():
    """With flowserv-core absent the errors derive from Python's own only."""
    probe = (
        'import sys\n'
        'sys.modules["flowserv"] = None  # import flowserv raises ImportError\n'
        'import flowserv_fsspec.errors as errors\n'
        'print(errors.UnknownFileError.__mro__[-3].__name__, "flowserv.error" in sys.modules)\n'
    )
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['Exception', 'False']


def test_paths_as_pathlike(tmp_path):
    from flowserv_fsspec import Volume, from_url
    from flowserv_fsspec.backends.local import LocalVolume as Local
    for volume in (Volume(FStore(tmp_path / 'a')), from_url(tmp_path / 'a'), Local(tmp_path / 'a')):
        assert isinstance(volume, Local) and volume.root == str(tmp_path / 'a')
    doc = {'type': 'fs', 'id': 'd', 'args': [{'key': 'basedir', 'value': tmp_path / 'a'}]}
    assert Volume(doc).to_dict()['args'] == [{'key': 'basedir', 'value': str(tmp_path / 'a')}]


def test_s3file_from_a_boto3_bucket_a_name_or_a_volume(s3_server, bucket, s3_client):
    import boto3

    from flowserv_fsspec import S3File
    s3_client.pipe_file(f'{bucket}/p/k.txt', b'payload')
    resource = boto3.resource('s3', endpoint_url=s3_server.endpoint_url)
    handles = [
        S3File(resource.Bucket(bucket), "p/k.txt"),
        S3File(bucket=resource.Bucket(bucket), key="p/k.txt"),
        S3File(bucket, 'p/k.txt'), S3File(S3Volume(bucket), key='p/k.txt'),
    ]
    for handle in handles:
        assert handle.size() == 7 and handle.open().read() == b'payload'
        assert isinstance(handle.open(), io.BytesIO) and handle.key == 'p/k.txt'
    with pytest.raises(Exception, match='boto3 Bucket'):
        S3File(42, 'k')


def test_remote_storage_from_flowserv_ssh_client(sftp_server):
    from types import SimpleNamespace

    from flowserv_fsspec import RemoteStorage, SftpVolume
    from flowserv_fsspec.errors import InvalidConfigurationError
    client = SimpleNamespace(  # flowserv's SSHClient's attributes (it connects with paramiko)
        hostname='127.0.0.1', port=sftp_server.port, timeout=5, look_for_keys=False, sep='/'
    )
    volume = RemoteStorage(client, '/remote', identifier='r')
    assert isinstance(volume, SftpVolume) and volume.identifier == 'r'
    assert volume.to_dict()['args'][:2] == [
        {'key': 'basedir', 'value': '/remote'}, {'key': 'hostname', 'value': '127.0.0.1'}
    ]
    assert RemoteStorage(client=client, remotedir='/x').root == '/x'
    with pytest.raises(InvalidConfigurationError, match='SftpVolume'):
        RemoteStorage('not a client', '/x')


def template_with(tmp_path, outputs, command):
    """The word-count template with other declared step outputs and command
    (the run's outputs stay its two result files)."""
    import shutil

    import yaml
    source = tmp_path / 'template'
    shutil.copytree(TEMPLATE, source)
    spec = yaml.safe_load((source / 'benchmark.yaml').read_text())
    spec['workflow']['steps'][0]['files']['outputs'] = outputs
    spec['workflow']['steps'][0]['action']['commands'] = [command]
    (source / 'benchmark.yaml').write_text(yaml.safe_dump(spec))
    return source


def run_template(tmp_path, source, filestore):
    env = flowserv_env().basedir(str(tmp_path / 'flowserv')).volume(filestore)
    client = Flowserv(env=env.run_sync().open_access(), clear=True)
    workflow_id = client.install(source=str(source), engine_config={
        'workers': [Subprocess(identifier='local', volume='worker')],
        'volumes': [FStore(tmp_path / 'worker', identifier='worker')],
        'workflow': [{'step': 'count', 'worker': 'local'}],
    })
    return client.open(workflow_id).start_run(
        {'words': FSFile(str(TEMPLATE / 'data' / 'words.txt'))})


@pytest.fixture(params=['s3', 'local'])
def run_store(request, tmp_path):
    """A run store on S3 (moto over HTTP) or local disk: its document."""
    if request.param == 's3':
        return S3Bucket(request.getfixturevalue('bucket'), 'runs', 'fs')
    return FStore(tmp_path / 'store', 'fs')


def test_a_folder_output_keeps_its_folder(tmp_path, run_store):
    """A step's folder output ``results/`` lands below results/ in the run
    store: never at its root, never over the run's input data/words.txt."""
    from flowserv_fsspec import Volume
    use_in_flowserv()
    command = ('${python} code/count.py "${wordsfile}" results && mkdir -p results/data && '
               'echo overwritten > results/data/words.txt')
    run = run_template(tmp_path, template_with(tmp_path, ['results/'], command), run_store)
    assert run.is_success(), run.messages()
    folder = Volume(run_store).get_store_for_folder(f'runs/{run.run_id}')
    files = {key for key, _ in folder.walk(None)}
    assert {'results/counts.txt', 'results/summary.json', 'results/data/words.txt'} <= files
    assert 'summary.json' not in files and 'counts.txt' not in files
    words = folder.load('data/words.txt')
    assert words.open().read() == (TEMPLATE / 'data' / 'words.txt').read_bytes()


def test_a_step_that_writes_no_declared_output_fails_the_run(tmp_path, run_store):
    use_in_flowserv()
    run = run_template(tmp_path, template_with(
        tmp_path, ['results/counts.txt', 'results/summary.json'], '${python} -c pass'), run_store)
    assert run.is_error()
    assert 'results/counts.txt' in ' '.join(run.messages())


def test_concurrent_runs_each_get_their_own_result(tmp_path, run_store):
    """Three runs at once (the async engine) in one configured worker volume,
    the run store on S3 (moto over HTTP) or local disk: each step runs in its
    own folder, each run reports its own count, and the folders are gone
    once the outputs are in the run store."""
    import time

    from flowserv_fsspec import IOBuffer
    use_in_flowserv()
    source = template_with(tmp_path, ['results/counts.txt', 'results/summary.json'],
                           '${python} code/count.py "${wordsfile}" results && sleep 1')
    env = flowserv_env().basedir(str(tmp_path / 'flowserv')).volume(run_store)
    client = Flowserv(env=env.run_async().open_access(), clear=True)
    workflow = client.open(client.install(source=str(source), engine_config={
        'workers': [Subprocess(identifier='local', volume='worker')],
        'volumes': [FStore(tmp_path / 'worker', identifier='worker')],
        'workflow': [{'step': 'count', 'worker': 'local'}],
    }))
    runs = {
        count: workflow.start_run({'words': IOBuffer(io.BytesIO(
            ' '.join(f'w{i}' for i in range(count)).encode()))})
        for count in (7, 2, 4)
    }
    deadline = time.monotonic() + 120
    for count, run in runs.items():
        while run.is_active() and time.monotonic() < deadline:
            time.sleep(0.2)
            run = workflow.poll_run(run.run_id)
        assert run.is_success(), run.messages()
        summary = json.loads(run.open_file('results/summary.json').read())
        assert summary['words'] == count, f'expected {count} got {summary["words"]}'
    assert LocalVolume(tmp_path / 'worker').walk(None) == []


def test_a_run_store_in_a_bucket_needs_no_worker_configuration(tmp_path, bucket, monkeypatch):
    """The run store on S3 and no worker volume: the step runs in a local
    folder of its own (below FLOWSERV_FSSPEC_WORKDIR), its results reach the
    bucket, and the folder is gone after the run."""
    use_in_flowserv()
    monkeypatch.setenv('FLOWSERV_FSSPEC_WORKDIR', str(tmp_path / 'workdir'))
    env = flowserv_env().basedir(str(tmp_path / 'flowserv')).volume(
        S3Bucket(bucket, 'zero-config', 'fs'))
    client = Flowserv(env=env.run_sync().open_access(), clear=True)
    workflow = client.open(client.install(source=str(TEMPLATE)))
    run = workflow.start_run({'words': FSFile(str(TEMPLATE / 'data' / 'words.txt'))})
    assert run.is_success(), run.messages()
    results = S3Volume(bucket, f'zero-config/runs/{run.run_id}/results')
    summary = json.loads(results.load('summary.json').open().read())
    assert summary['words'] == len(WORDS)
    assert LocalVolume(tmp_path / 'workdir').walk(None) == []


def test_volume_options_come_from_the_environment(tmp_path, monkeypatch):
    from flowserv_fsspec.errors import InvalidConfigurationError
    from flowserv_fsspec.inside_flowserv import volume_options
    table = {'s3': {'timeout': 5, 'retries': 2}, 'worker': {'timeout': 1}}
    monkeypatch.setenv('FLOWSERV_FSSPEC_OPTIONS', json.dumps(table))
    assert volume_options(S3Bucket('b', identifier='worker')) == {'timeout': 1, 'retries': 2}
    assert volume_options(FStore(tmp_path, 'x')) == {}
    (tmp_path / 'options.json').write_text(json.dumps(table))
    monkeypatch.setenv('FLOWSERV_FSSPEC_OPTIONS', str(tmp_path / 'options.json'))
    assert volume_options(S3Bucket('b', identifier='other')) == {'timeout': 5, 'retries': 2}
    for bad in ('{"s3": 1}', '{not json', str(tmp_path / 'missing.json')):
        monkeypatch.setenv('FLOWSERV_FSSPEC_OPTIONS', bad)
        with pytest.raises(InvalidConfigurationError, match='FLOWSERV_FSSPEC_OPTIONS'):
            volume_options(S3Bucket('b'))


def test_a_worker_volume_that_never_answers_ends_the_run_in_error(tmp_path, bucket, monkeypatch):
    """Options from the environment reach the volumes flowserv builds: a
    worker bucket behind a silent endpoint fails the run within seconds."""
    import time

    from flowserv_fsspec.testing.silent_server import SilentServer
    use_in_flowserv()
    with SilentServer() as silent:
        monkeypatch.setenv('FLOWSERV_FSSPEC_OPTIONS', json.dumps({'worker': {
            'endpoint_url': f'http://{silent.address}', 'key': 'k', 'secret': 's',
            'timeout': 1, 'retries': 1,
        }}))
        env = flowserv_env().basedir(str(tmp_path / 'flowserv')).volume(
            FStore(tmp_path / 'store', 'fs'))
        client = Flowserv(env=env.run_sync().open_access(), clear=True)
        workflow = client.open(client.install(source=str(TEMPLATE), engine_config={
            'workers': [Subprocess(identifier='local', volume='worker')],
            'volumes': [S3Bucket('silent-bucket', 'work', identifier='worker')],
            'workflow': [{'step': 'count', 'worker': 'local'}],
        }))
        started = time.monotonic()
        run = workflow.start_run({'words': FSFile(str(TEMPLATE / 'data' / 'words.txt'))})
        took = time.monotonic() - started
    assert run.is_error()
    assert 'Timeout' in ' '.join(run.messages()) or 'timeout' in ' '.join(run.messages())
    assert took < 30, took  # the default timeout and retries would take minutes


def test_a_volume_manager_outside_the_engines_runs_keeps_flowservs_behaviour(tmp_path):
    """Per-run folders and output checks belong to the engine's runs: a
    VolumeManager used directly (as flowserv's own tests and tools do) gives
    the configured volumes and records outputs without checking them."""
    from flowserv.volume.manager import DEFAULT_STORE, VolumeManager
    use_in_flowserv()
    volumes = VolumeManager(
        stores=[FStore(tmp_path / 'store', DEFAULT_STORE), FStore(tmp_path / 'worker', 'w')],
        files={},
    )
    worker = volumes.get('w')
    assert worker.basedir == str(tmp_path / 'worker')
    volumes.update(store=worker, files=['never-written.txt'])
    assert volumes.files == {'never-written.txt': ['w']}
