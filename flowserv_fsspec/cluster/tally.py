"""Progress across the workers of a cluster: each task tells the bytes it
planned and copied and the files it copied, a few times a second, as Dask
events of the run's topic; the client adds them up and tells them to its
callback (bytes) and counter (files).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Tuple

from fsspec.callbacks import Callback


if TYPE_CHECKING:
    from distributed import Client


EVERY = 0.25
"""Seconds between a task's reports (and at its end)."""

Told = Tuple[int, int, int]
"""A task's report: bytes planned, bytes copied and files copied since its last one."""


class Reporter(Callback):  # type: ignore[misc]
    """A task's progress callback: what it counts is sent to the client as
    events of the run's topic (nothing where the run has no topic).
    """

    def __init__(self, topic: Optional[str]):
        """Initialize with the run's topic.

        Parameters
        ----------
        topic: string or None
            Topic of the run's events (None: nobody watches).
        """
        super().__init__()
        self.topic = topic
        self.planned = self.copied = self.files = 0
        self.total = 0
        self.sent_at = time.monotonic()

    def set_size(self, size: int) -> None:
        """Count the bytes planned so far (the task's total)."""
        self.planned, self.total = self.planned + size - self.total, size
        self.send()

    def relative_update(self, inc: int = 1) -> None:
        """Count bytes copied."""
        self.copied += inc
        self.send()

    def file_done(self, key: str, dstkey: str) -> None:
        """Count a file copied (``copy_planned``'s ``report``)."""
        self.files += 1
        self.send()

    def send(self, now: bool = False) -> None:
        """Send what was counted since the last report, when its time has come."""
        told = (self.planned, self.copied, self.files)
        if self.topic is None or told == (0, 0, 0):
            return
        if now or time.monotonic() - self.sent_at >= EVERY:
            from distributed import get_worker
            get_worker().log_event(self.topic, told)
            self.planned = self.copied = self.files = 0
            self.sent_at = time.monotonic()


@contextlib.contextmanager
def tallied(
    client: Client, callback: Optional[Callback], counted: Optional[Callable[[int], None]]
) -> Iterator[Optional[str]]:
    """Add up what the tasks of a run tell, for the time of a block.

    Parameters
    ----------
    client: distributed.Client
        Client of the cluster.
    callback: fsspec.callbacks.Callback or None
        Told the bytes planned (``set_size``) and copied (``relative_update``).
    counted: callable or None
        Told the number of files copied so far.

    Returns
    -------
    contextmanager of string or None
        The run's topic, for its tasks (None: nobody watches).
    """
    if callback is None and counted is None:
        yield None
        return
    topic = f'flowserv-fsspec-progress-{uuid.uuid4().hex[:12]}'
    totals = [0, 0]  # bytes planned, files copied
    lock = threading.Lock()

    def told(event: Tuple[float, Any]) -> None:
        planned, copied, files = event[1]
        with lock:
            totals[0] += planned
            totals[1] += files
            if callback is not None:
                callback.set_size(totals[0])
                callback.relative_update(copied)
            if counted is not None:
                counted(totals[1])

    client.subscribe_topic(topic, told)  # type: ignore[no-untyped-call]
    try:
        yield topic
    finally:
        client.unsubscribe_topic(topic)  # type: ignore[no-untyped-call]
