"""The S3 client of a volume: s3fs configured so that no request waits
forever and retries are counted once.

- Timeouts: the option ``timeout`` bounds the connect and each read, and
  uploads too: botocore asks for ``Expect: 100-continue`` on every upload,
  which aiohttp awaits with no timeout (:func:`no_expect_continue` drops
  it), and a server that stops reading would leave a write waiting for room
  forever (:class:`BoundedSockets`: bytes sent must be acknowledged within
  the timeout).
- Retries: the option ``retries`` sets botocore's and s3fs's layers.
- Connections: 32 kept open (botocore's default is 10).
- Timestamps: botocore parses each with dateutil (~0.35 ms: a listing of
  1,000 keys spent ~0.35 s of CPU on them);
  :func:`~flowserv_fsspec.backends.s3_answers.parse_timestamp` reads S3's
  forms with ``datetime.fromisoformat`` and ``email.utils``.
- Requests: plain listings, HEADs, ranged GETs, single PUTs and copies take
  the lean path of :mod:`flowserv_fsspec.backends.s3_requests` (option
  ``lean_requests``).

:data:`S3FileSystem` is s3fs's class with these clients, built on first use
(importing this module does not import s3fs), which is how its instances
pickle.
"""

from __future__ import annotations

import functools
import socket
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Dict, Optional

from fsspec import AbstractFileSystem
from fsspec.asyn import sync_wrapper

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.backends.s3_answers import parse_timestamp
from flowserv_fsspec.backends.s3_requests import LeanRequests, plain
from flowserv_fsspec.errors import InvalidConfigurationError


DEFAULT_ATTEMPTS = 4
"""Attempts botocore makes per request unless the option ``retries`` says otherwise."""

DEFAULT_CONNECTIONS = 32
"""Connections a volume's client keeps open (botocore's default is 10): the
many small requests of a bulk copy wait on the network's round trips, not
on bandwidth, so more of them in flight make a copy over a distance faster."""


def s3_filesystem(options: Dict[str, Any]) -> AbstractFileSystem:
    """Build an ``s3fs.S3FileSystem`` that caches no listings.

    The option ``timeout`` (seconds, default
    :data:`~flowserv_fsspec.backends.DEFAULT_TIMEOUT`) bounds the connect and
    each read. The option ``retries`` (attempts per request, 1 = no retry)
    sets both retry layers: botocore's (HTTP 500/503, throttling,
    connection errors and timeouts; ``standard`` mode, exponential backoff
    with jitter) and s3fs's own (read timeouts, broken responses), which
    wraps botocore's. Without it botocore makes 4 attempts and s3fs one:
    s3fs's 5 around botocore's 5 made 25 attempts, so a silent server held
    a listing for minutes (with this default: 4 x 20 s). An explicit
    ``config_kwargs={'retries': ...}`` takes precedence for botocore.
    Connections: ``config_kwargs={'max_pool_connections': n}`` (default
    :data:`DEFAULT_CONNECTIONS`). The option ``lean_requests`` (default True)
    sends listings, HEADs, ranged GETs, single PUTs and copies on the lean path
    (:mod:`flowserv_fsspec.backends.s3_requests`); False sends every request
    through botocore. The option ``batch_size`` (fsspec's: requests in flight
    for many small files) is set on the filesystem: s3fs would pass it on to
    aiobotocore's session, which fails at the first request.
    """
    s3fs = import_backend('s3fs', 's3://', 's3')
    timeout = timeout_option(options)
    retries = options.pop('retries', None)
    lean = options.pop('lean_requests', True)
    batch_size = options.pop('batch_size', None)
    check_options('S3', options, s3fs.S3FileSystem.__init__)
    if batch_size is not None and (
        not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
    ):
        raise InvalidConfigurationError('S3 option batch_size', batch_size, 'expected int >= 1')
    if not isinstance(lean, bool):
        raise InvalidConfigurationError('S3 option lean_requests', lean, 'expected True or False')
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or retries < 1
    ):
        raise InvalidConfigurationError('S3 option retries', retries, 'expected int >= 1')
    config = dict(options.get('config_kwargs') or {})
    config.setdefault('retries', {
        'total_max_attempts': retries or DEFAULT_ATTEMPTS, 'mode': 'standard'
    })
    config.setdefault('connect_timeout', timeout)
    config.setdefault('read_timeout', timeout)
    config.setdefault('max_pool_connections', DEFAULT_CONNECTIONS)
    config.setdefault('connector_args', {'socket_factory': BoundedSockets(timeout)})
    options['config_kwargs'] = config
    fs = bounded_class(s3fs)(use_listings_cache=False, lean_requests=lean, **options)
    fs.retries = retries or 1
    fs.batch_size = batch_size or fs.batch_size
    return fs


@dataclass(frozen=True)
class BoundedSockets:
    """The client's socket factory: sockets whose sent bytes must be
    acknowledged within ``timeout`` seconds (Linux's ``TCP_USER_TIMEOUT``), so
    that an upload to a server that stops reading fails then, where aiohttp
    would wait forever for room to write. Equal for equal timeouts (fsspec
    shares filesystems with equal options) and picklable.
    """

    timeout: float

    def __call__(self, addr_info: Any) -> socket.socket:
        """Make a socket for an address (aiohttp's ``socket_factory``)."""
        family, kind, proto = addr_info[:3]
        sock = socket.socket(family, kind, proto)
        if hasattr(socket, 'TCP_USER_TIMEOUT'):
            sock.setsockopt(
                socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(self.timeout * 1000)
            )
        return sock


def no_expect_continue(request: Any, **kwargs: Any) -> None:
    """Send an upload's body without waiting for ``100 Continue`` first:
    botocore asks for it on every upload, and aiohttp waits for it with no
    timeout, so a server that never answers held an upload forever. Without
    it the read timeout bounds the wait for the answer, as for every request.
    """
    if 'Expect' in request.headers:
        del request.headers['Expect']


@functools.cache
def bounded_class(s3fs: ModuleType) -> Any:
    """Build (once, so that fsspec shares equal instances) the
    ``S3FileSystem`` whose clients upload without waiting for ``100 Continue``
    (see :func:`no_expect_continue`), parse timestamps fast
    (:func:`~flowserv_fsspec.backends.s3_answers.parse_timestamp`) and send
    the plain requests of bulk copies and listings on the lean path
    (:class:`~flowserv_fsspec.backends.s3_requests.LeanRequests`). It is
    this module's ``S3FileSystem`` (built on first access, so that importing
    the module does not import s3fs), which is how its instances pickle.
    """
    class S3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc, name-defined]
        lean: Optional[LeanRequests] = None
        prepared: Any = None

        def __init__(self, *args: Any, lean_requests: bool = True, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.lean_requests = lean_requests

        async def set_session(self, refresh: bool = False, kwargs: Any = None) -> Any:
            client = await super().set_session(refresh, kwargs or {})
            if client is not self.prepared:  # once per client, not per request
                client.meta.events.register(
                    'before-sign.s3', no_expect_continue, unique_id='flowserv-no-expect-continue'
                )
                # The session's parsers of every answer (its clients included).
                self.session.get_component('response_parser_factory').set_parser_defaults(
                    timestamp_parser=parse_timestamp
                )
                self.lean = LeanRequests(client) if self.lean_requests else None
                self.prepared = client
            return client

        async def _call_s3(self, method: str, *args: Any, **kwargs: Any) -> Any:
            # The requests a listing or a bulk read repeats take the lean
            # path (see flowserv_fsspec.backends.s3_requests) when plain.
            if plain(method, args, kwargs) and not (
                self.s3_additional_kwargs or self.req_kw or self.cache_regions
            ):
                await self.set_session()
                if self.lean is not None and await self.lean.takes(kwargs['Bucket']):
                    return await s3fs.core._error_wrapper(
                        self.lean.call, args=(method, kwargs), retries=self.retries
                    )
            return await super()._call_s3(method, *args, **kwargs)

        call_s3 = sync_wrapper(_call_s3)  # s3fs's wraps its own _call_s3

    S3FileSystem.__module__, S3FileSystem.__qualname__ = __name__, 'S3FileSystem'
    return S3FileSystem


def __getattr__(name: str) -> Any:
    """``S3FileSystem``, built on first access (see :func:`bounded_class`)."""
    if name == 'S3FileSystem':
        return bounded_class(import_backend('s3fs', 's3://', 's3'))
    raise AttributeError(name)
