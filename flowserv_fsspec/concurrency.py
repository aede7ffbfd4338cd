"""Many calls of one filesystem: concurrent on async filesystems (s3fs, gcsfs,
adlfs, HTTP), one after the other elsewhere, with each call's outcome; and
:class:`Window`, a bounded number of coroutines in flight on a filesystem's
event loop, submitted from the caller's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import deque
from typing import Any, Coroutine, Deque, Dict, List, Optional, Sequence, Tuple, Union

from fsspec.asyn import _run_coros_in_chunks, sync


def is_async(fs: Any) -> bool:
    """Whether a filesystem's coroutines do the work: it is async, and so is
    the filesystem it wraps, if any (fsspec's ``DirFileSystem`` is async in
    name over local disk or memory, where its coroutines find none below).

    Parameters
    ----------
    fs: fsspec.AbstractFileSystem
        A filesystem (or any object: False).

    Returns
    -------
    bool
    """
    inner = getattr(fs, 'fs', None)
    return bool(getattr(fs, 'async_impl', False)) and (inner is None or is_async(inner))


def gather(fs: Any, coros: List[Coroutine[Any, Any, Any]]) -> List[Any]:
    """Run coroutines on an async filesystem's loop, ``batch_size`` at a time;
    give each one's result, or its exception.

    Parameters
    ----------
    fs: fsspec.asyn.AsyncFileSystem
        The filesystem (its loop and batch size).
    coros: list of coroutine
        The work.

    Returns
    -------
    list
    """
    results: List[Any] = sync(
        fs.loop, _run_coros_in_chunks, coros, batch_size=fs.batch_size, nofiles=True,
        return_exceptions=True
    )
    return results


Call = Union[Tuple[str, Tuple[Any, ...]], Tuple[str, Tuple[Any, ...], Dict[str, Any]]]
"""A method name and its arguments (and keyword arguments)."""


def run_each(target: Any, calls: Sequence[Call]) -> List[Optional[BaseException]]:
    """Call one method of a filesystem (or volume) per item; give each item's
    error, or None where the call succeeded.

    Async filesystems run the calls concurrently, ``batch_size`` at a time
    (their ``_name`` coroutines), and every call is tried. Otherwise the calls
    run in turn up to the first failure, whose error then stands for the calls
    that were not tried.

    Parameters
    ----------
    target: fsspec.AbstractFileSystem or flowserv_fsspec.base.StorageVolume
        Object whose methods are called.
    calls: list of (string, tuple) or (string, tuple, dict)
        Method name, arguments and keyword arguments of each call.

    Returns
    -------
    list of Exception or None
    """
    full = [(call[0], call[1], call[2] if len(call) > 2 else {}) for call in calls]
    if is_async(target):
        results = gather(target, [
            getattr(target, f'_{name}')(*args, **kwargs) for name, args, kwargs in full
        ])
        return [res if isinstance(res, BaseException) else None for res in results]
    outcomes: List[Optional[BaseException]] = list()
    for name, args, kwargs in full:
        try:
            getattr(target, name)(*args, **kwargs)
        except Exception as ex:
            return outcomes + [ex] * (len(calls) - len(outcomes))
        outcomes.append(None)
    return outcomes


class Window:
    """Coroutines run on an event loop from another thread, at most ``size``
    at once; results are taken in the order of submission.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int):
        """Initialize with the loop (running in its own thread) and the bound."""
        self.loop = loop
        self.size = size
        self.pending: Deque[concurrent.futures.Future[Any]] = deque()

    def full(self) -> bool:
        """Whether ``size`` coroutines are in flight."""
        return len(self.pending) >= self.size

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start a coroutine (the caller checks ``full()`` first)."""
        self.pending.append(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def next_result(self) -> Any:
        """Wait for the oldest coroutine and give its result (or raise its error)."""
        return self.pending.popleft().result()

    def any_result(self) -> Any:
        """Wait for any coroutine to finish and give its result (or raise its
        error): a slow one does not hold the others' slots.
        """
        done, _ = concurrent.futures.wait(
            self.pending, return_when=concurrent.futures.FIRST_COMPLETED
        )
        future = next(iter(done))
        self.pending.remove(future)
        return future.result()

    def cancel(self) -> None:
        """Cancel what is still in flight and wait until it has stopped."""
        for future in self.pending:
            future.cancel()
        concurrent.futures.wait(self.pending)
        self.pending.clear()
