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
place, ``update`` copies the step's outputs into the run store as well.

Deployments switch it on without code through flowserv's own engine
setting: ``FLOWSERV_BACKEND_MODULE=flowserv_fsspec.inside_flowserv`` and
``FLOWSERV_BACKEND_CLASS=SerialWorkflowEngine`` (flowserv builds its engine
before its file store, so the engine's constructor is early enough).
"""

import importlib
import sys
from typing import Any, List

from flowserv_fsspec.base import copy_planned
from flowserv_fsspec.errors import UnknownFileError
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
            vars(module)['Volume'] = Volume
    manager: Any = vars(sys.modules['flowserv.volume.manager'])['VolumeManager']
    if manager.update is not update_and_collect:
        update_and_collect.flowserv_update = manager.update  # type: ignore[attr-defined]
        manager.update = update_and_collect


def update_and_collect(self: Any, store: Any, files: List[str]) -> None:
    """``VolumeManager.update`` that checks that a step wrote its declared
    outputs, and copies them into the run store, each under its own key,
    when the step ran in another volume (flowserv only records them).

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
    outputs = {name.rstrip('/'): store.walk(name.rstrip('/')) for name in files}
    for name, found in outputs.items():
        if not found:
            raise UnknownFileError(name, f'{store.describe()} (an output the step did not write)')
    update_and_collect.flowserv_update(self, store, files)  # type: ignore[attr-defined]
    if store.identifier == DEFAULT_STORE:
        return
    # Each output under its own key: a folder's files below that folder (a
    # copy of a folder without a destination would put them at the root).
    pairs = [pair for name, found in outputs.items() for pair in destinations(name, found, name)]
    copy_planned(pairs, store, self.get(DEFAULT_STORE))
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
