"""Running flowserv on this library: :func:`use_in_flowserv`.

flowserv-core has no plug-in point for storage volumes: four of its modules
bind its factory ``Volume`` when they are imported
(``flowserv.volume.factory``, ``flowserv.volume.manager``,
``flowserv.service.local``, ``flowserv.controller.serial.engine.base``).
:func:`use_in_flowserv` imports each and rebinds the name to this library's
:func:`flowserv_fsspec.registry.Volume`, in those and in any other loaded
flowserv module that bound it, so the order of imports does not matter.

It also supplies what flowserv's serial engine leaves out: a step that ran
in another volume than the run store (a worker's local folder while the run
store is a bucket) only has its outputs *recorded* by
``VolumeManager.update``; they never reach the run store, so result files,
the leaderboard and the result archive come out empty. With this library in
place, ``update`` checks that the step wrote each declared output (a missing
one fails the run, naming it) and copies each into the run store under its
own key (a folder output below its folder). Each run works in its own
folder of a worker volume (``runs/<run id>``, removed when the run ends), so
concurrent runs never see each other's files; and this library's handles
are flowserv's (its client uploads them as run inputs).

Deployments switch it on without code through flowserv's own engine
setting: ``FLOWSERV_BACKEND_MODULE=flowserv_fsspec.inside_flowserv`` and
``FLOWSERV_BACKEND_CLASS=SerialWorkflowEngine`` (flowserv builds its engine
before its file store, so the engine's constructor is early enough).
"""

import importlib
import json
import logging
import os
import sys
import tempfile
from operator import itemgetter
from typing import Any, Dict, List

from flowserv_fsspec.backends.local import FStore, LocalVolume
from flowserv_fsspec.base import copy_planned, ends
from flowserv_fsspec.errors import InvalidConfigurationError, UnknownFileError, VolumeError
from flowserv_fsspec.handles import IOBuffer, IOHandle
from flowserv_fsspec.plan import destinations
from flowserv_fsspec.registry import Volume


BINDING_MODULES = (
    'flowserv.volume.factory', 'flowserv.volume.manager', 'flowserv.service.local',
    'flowserv.controller.serial.engine.base',
)
"""flowserv modules that bind the volume factory ``Volume`` at import."""


def use_in_flowserv() -> None:
    """Make flowserv build every storage volume with this library, copy the
    outputs of steps that ran elsewhere into the run store, and take this
    library's handles as its own (every ``IOHandle`` is one of flowserv's,
    ``IOBuffer`` one of its ``IOBuffer``: its client uploads them).

    Idempotent; correct whatever flowserv modules were imported before.
    Needs flowserv-core.
    """
    for name in BINDING_MODULES:
        importlib.import_module(name)
    flowserv_base: Any = importlib.import_module('flowserv.volume.base')
    flowserv_base.IOHandle.register(IOHandle)
    flowserv_base.IOBuffer.register(IOBuffer)
    factory: Any = sys.modules['flowserv.volume.factory']
    original = factory.Volume
    for name, module in list(sys.modules.items()):
        if (name == 'flowserv' or name.startswith('flowserv.')) and \
                getattr(module, 'Volume', None) is original:
            vars(module)['Volume'] = volume_with_options
    manager: Any = vars(sys.modules['flowserv.volume.manager'])['VolumeManager']
    if manager.update is not update_and_collect:
        update_and_collect.flowserv_update = manager.update  # type: ignore[attr-defined]
        manager.update = update_and_collect
    if manager.get is not get_for_run:
        get_for_run.flowserv_get = manager.get  # type: ignore[attr-defined]
        manager.get = get_for_run
    engine = vars(sys.modules['flowserv.controller.serial.engine.base'])
    if engine['exec_workflow'] is not exec_and_clean:
        exec_and_clean.flowserv_exec = engine['exec_workflow']  # type: ignore[attr-defined]
        engine['exec_workflow'] = exec_and_clean


OPTIONS_VARIABLE = 'FLOWSERV_FSSPEC_OPTIONS'
"""Environment variable with the storage options of the volumes flowserv
builds: JSON (or the path of a JSON file) mapping a volume's identifier or
document type to its options, e.g. ``{"s3": {"timeout": 10, "retries": 3}}``."""


def volume_options(doc: Dict[str, Any]) -> Dict[str, Any]:
    """Get the storage options of a volume document from the environment (see
    :data:`OPTIONS_VARIABLE`): those of its identifier over those of its type.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    text = os.environ.get(OPTIONS_VARIABLE, '').strip()
    if not text:
        return {}
    try:
        if not text.startswith('{'):
            with open(text) as f:
                text = f.read()
        table = json.loads(text)
        if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
            raise ValueError('expected {"id or type": {"option": value}}')
    except (OSError, ValueError) as ex:
        raise InvalidConfigurationError(OPTIONS_VARIABLE, '...', str(ex)) from None
    return {**table.get(doc.get('type', 'fs'), {}), **table.get(str(doc.get('id')), {})}


def volume_with_options(doc: Dict[str, Any]) -> Any:
    """Build a volume for flowserv (its factory ``Volume``): with the storage options
    that the environment gives the volume (see :func:`volume_options`).
    """
    return Volume(doc, **volume_options(doc))


RUN_FOLDERS = '_flowserv_fsspec_run_folders'
"""Attribute of a run's volume manager: the worker folders made for the run."""


def get_for_run(self: Any, identifier: str) -> Any:
    """``VolumeManager.get`` that gives each run of the engine its own folder
    of a worker volume: ``runs/<run id>`` below the configured one (the run
    store's last segment is the run id), holding the files the configuration
    says the volume holds. Concurrent runs never see each other's files.
    A manager used outside the engine's runs (see :func:`exec_and_clean`)
    gives the configured volumes, as flowserv does.

    Parameters
    ----------
    self: flowserv.volume.manager.VolumeManager
        The run's volume manager.
    identifier: string
        Identifier of a storage volume of the run.

    Returns
    -------
    flowserv_fsspec.base.StorageVolume
    """
    from flowserv.volume.manager import DEFAULT_STORE
    get = get_for_run.flowserv_get  # type: ignore[attr-defined]
    in_run = RUN_FOLDERS in vars(self)
    if in_run and identifier != DEFAULT_STORE and identifier not in self._stores:
        spec = self._storespecs[identifier]
        volume = volume_with_options(spec)
        run_id = get(self, DEFAULT_STORE).url.rstrip('/').rpartition('/')[2]
        folder = volume.get_store_for_folder(f'runs/{run_id}', identifier=identifier)
        for key in spec.get('files', []):
            volume.copy(key.rstrip('/'), folder, dst=key.rstrip('/'))
        self._stores[identifier] = folder
        vars(self)[RUN_FOLDERS].append(folder)
    return get(self, identifier)


LOCAL_WORKER = 'flowserv-fsspec-local'
"""Identifier of the local volume of steps whose run store has no local
folder and whose worker names no volume."""

WORKDIR_VARIABLE = 'FLOWSERV_FSSPEC_WORKDIR'
"""Environment variable naming the local folder below which such steps run
(default: ``flowserv-fsspec`` below the system's temporary folder)."""


def local_workdir() -> str:
    """Get the local folder below which steps of runs stored in a bucket run."""
    return os.environ.get(WORKDIR_VARIABLE) or os.path.join(
        tempfile.gettempdir(), 'flowserv-fsspec'
    )


def exec_and_clean(steps: Any, workers: Any, volumes: Any, result: Any) -> Any:
    """Run flowserv's ``exec_workflow``, then remove the run's worker folders
    (their outputs are in the run store by then; see :func:`get_for_run`).

    A run store without a local folder (a bucket) cannot be a step's working
    folder (flowserv's workers run commands in ``store.basedir``): steps
    whose worker names no volume run in a local folder of the run instead
    (below :func:`local_workdir`), and their outputs reach the run store as
    those of any worker volume do.
    """
    from flowserv.volume.manager import DEFAULT_STORE
    vars(volumes).setdefault(RUN_FOLDERS, [])
    if not isinstance(volumes.get(DEFAULT_STORE), LocalVolume):
        volumes._storespecs.setdefault(LOCAL_WORKER, FStore(local_workdir(), LOCAL_WORKER))
        default_worker = workers.get

        def worker_of(step: Any) -> Any:
            worker = default_worker(step)
            if worker.volume == DEFAULT_STORE:
                worker.volume = LOCAL_WORKER
            return worker

        workers.get = worker_of
    try:
        return exec_and_clean.flowserv_exec(  # type: ignore[attr-defined]
            steps=steps, workers=workers, volumes=volumes, result=result
        )
    finally:
        for folder in vars(volumes)[RUN_FOLDERS]:
            try:
                folder.erase()
            except VolumeError as ex:  # the run's result stands; the folder is left
                logging.getLogger(__name__).warning('worker folder not removed: %s', ex)


def update_and_collect(self: Any, store: Any, files: List[str]) -> None:
    """``VolumeManager.update`` that, in the engine's runs (see
    :func:`exec_and_clean`), checks that a step wrote its declared outputs,
    and copies them into the run store, each under its own key, when the
    step ran in another volume (flowserv only records them, as this does
    for a manager used outside the engine's runs).

    Parameters
    ----------
    self: flowserv.volume.manager.VolumeManager
        The run's volume manager.
    store: flowserv_fsspec.base.StorageVolume
        The volume the step ran in.
    files: list of string
        The step's output files (or folders, ending in '/').

    Raises
    ------
    flowserv_fsspec.errors.UnknownFileError
        A declared output that the step did not write (a flowserv
        ``UnknownFileError``: the run fails, naming it).
    """
    from flowserv.volume.manager import DEFAULT_STORE
    if RUN_FOLDERS not in vars(self):
        update_and_collect.flowserv_update(self, store, files)  # type: ignore[attr-defined]
        return
    outputs = {name.rstrip('/'): store.walk(name.rstrip('/')) for name in files}
    for name, found in outputs.items():
        if not found:
            raise UnknownFileError(name, f'{store.describe()} (an output the step did not write)')
    update_and_collect.flowserv_update(self, store, files)  # type: ignore[attr-defined]
    if store.identifier == DEFAULT_STORE:
        return
    # Each output under its own key: a folder's files below that folder (a
    # copy of a folder without a destination would put them at the root).
    pairs = sorted((
        pair for name, found in outputs.items() for pair in destinations(name, found, name)
    ), key=itemgetter(2))
    target = self.get(DEFAULT_STORE)
    ends(store, target).refusals().check_all(pairs)
    copy_planned(pairs, store, target)
    for _, _, key in pairs:
        self.files.setdefault(key, []).append(DEFAULT_STORE)


def engine_class() -> Any:
    """Build the engine class of the deployment switch (needs flowserv-core)."""
    from flowserv.controller.serial.engine.base import SerialWorkflowEngine as Base

    class Engine(Base):  # type: ignore[misc]
        """flowserv's serial engine, with :func:`use_in_flowserv` applied first."""

        def __init__(self, *args: Any, **kwargs: Any):
            use_in_flowserv()
            super().__init__(*args, **kwargs)

    Engine.__name__ = Engine.__qualname__ = 'SerialWorkflowEngine'
    Engine.__module__ = __name__
    return Engine


def __getattr__(name: str) -> Any:
    """``SerialWorkflowEngine``, built on first access, so that importing this
    module does not import flowserv.
    """
    if name == 'SerialWorkflowEngine':
        engine = engine_class()
        globals()[name] = engine
        return engine
    raise AttributeError(name)
