"""moto's S3 server on a loopback port, with counts of requests and bytes.

Used by the ``demo`` command, the test suite and the benchmarks: a real S3
HTTP endpoint on 127.0.0.1 with no cloud account. Needs the ``moto[server]``
package (the ``demo`` and ``test`` extras install it).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

from flowserv_fsspec.backends import import_backend


COUNTS_PATH = '/_counts'
"""Path of the request counts (no S3 bucket name can start with '_')."""

MOTO_CREDENTIALS = {'key': 'testing', 'secret': 'testing'}
"""Credentials that moto accepts (it accepts any)."""


FAULT_CODES = {
    403: 'AccessDenied', 500: 'InternalError', 502: 'BadGateway', 503: 'ServiceUnavailable'
}
"""S3 error codes of the HTTP statuses that ``inject`` can answer."""


class RequestCounter:
    """WSGI middleware that counts requests by method and payload bytes, and
    injects faults.

    ``bytes_in`` counts request bodies (uploads), ``bytes_out`` response
    bodies (downloads), ``max_in_flight`` the most requests served at once.
    ``inject`` makes the next requests fail; ``cut`` drops every connection
    that sends a request from then on (a stopped server, including its
    kept-alive connections).
    """

    def __init__(self, app: Callable[..., Any]):
        """Wrap a WSGI application.

        Parameters
        ----------
        app: callable
            The WSGI application to count requests of.
        """
        self.app = app
        self.lock = threading.Lock()
        self.faults: List[Any] = list()
        self.cut_all = False
        self.reset()

    def reset(self) -> None:
        """Set all counts to zero."""
        with self.lock:
            self.methods: Counter[str] = Counter()
            self.bytes_in = 0
            self.bytes_out = 0
            self.in_flight = 0
            self.max_in_flight = 0

    @property
    def requests(self) -> int:
        """Number of requests since the last reset."""
        return sum(self.methods.values())

    def snapshot(self) -> Dict[str, Any]:
        """Get the counts as a dictionary.

        Returns
        -------
        dict
        """
        with self.lock:
            return {
                'requests': sum(self.methods.values()), 'methods': dict(self.methods),
                'bytes_in': self.bytes_in, 'bytes_out': self.bytes_out
            }

    def inject(self, fault: Any, count: int = 1) -> None:
        """Make the next requests fail.

        Parameters
        ----------
        fault: int or string
            An HTTP status of FAULT_CODES (answered with an S3 error document)
            or 'reset' (the connection is closed without an answer).
        count: int, default=1
            Number of requests that fail.
        """
        if fault != 'reset' and fault not in FAULT_CODES:
            raise ValueError(f'unknown fault {fault!r}')
        with self.lock:
            self.faults.extend([fault] * count)

    def cut(self) -> None:
        """Drop the connection of every request from now on."""
        self.cut_all = True

    def _fault(self) -> Any:
        with self.lock:
            if self.cut_all:
                return 'reset'
            return self.faults.pop(0) if self.faults else None

    def __call__(
        self, environ: Dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Count the request, then serve it, counting response bytes.

        ``GET /_counts`` answers the counts as JSON and ``DELETE /_counts``
        resets them (for clients in another process); neither is counted.
        """
        if environ.get('PATH_INFO') == COUNTS_PATH:
            if environ['REQUEST_METHOD'] == 'DELETE':
                self.reset()
            start_response('200 OK', [('Content-Type', 'application/json')])
            return [json.dumps(self.snapshot()).encode()]
        length = int(environ.get('CONTENT_LENGTH') or 0)
        with self.lock:
            self.methods[environ['REQUEST_METHOD']] += 1
            self.bytes_in += length
        fault = self._fault()
        if fault == 'reset':
            start_response('500 Connection Dropped', [('Content-Length', '0')])
            sock = environ.get('werkzeug.socket')
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            return []
        if fault is not None:
            body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{FAULT_CODES[fault]}'
                    '</Code><Message>injected fault</Message></Error>').encode()
            start_response(f'{fault} {FAULT_CODES[fault]}', [
                ('Content-Type', 'application/xml'), ('Content-Length', str(len(body)))
            ])
            # A response to HEAD has no body (aiohttp rejects one as malformed).
            return [] if environ['REQUEST_METHOD'] == 'HEAD' else [body]
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._ended()
            raise
        return self._count_out(body)

    def _ended(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def _count_out(self, body: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in body:
                with self.lock:
                    self.bytes_out += len(chunk)
                yield chunk
        finally:
            self._ended()
            close = getattr(body, 'close', None)
            if close is not None:
                close()


class MotoS3Server:
    """moto's S3 server in a background thread on 127.0.0.1 and a free port.

    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, host: str = '127.0.0.1', port: int = 0):
        """Set the address to listen on (port 0 picks a free port).

        Parameters
        ----------
        host: string, default='127.0.0.1'
            Loopback address to listen on.
        port: int, default=0
            TCP port; 0 picks a free one.
        """
        self.host = host
        self.port = port
        self.counter: Optional[RequestCounter] = None
        self._server: Any = None
        self._thread: Optional[threading.Thread] = None

    @property
    def endpoint_url(self) -> str:
        """HTTP endpoint of the running server."""
        return f'http://{self.host}:{self.port}'

    def storage_options(self) -> Dict[str, Any]:
        """Options for ``s3fs.S3FileSystem`` that reach this server.

        Returns
        -------
        dict
        """
        return dict(MOTO_CREDENTIALS, endpoint_url=self.endpoint_url)

    def start(self) -> MotoS3Server:
        """Start the server and return it once it accepts connections.

        Returns
        -------
        flowserv_fsspec.testing.moto_server.MotoS3Server
        """
        moto = import_backend('moto.moto_server.werkzeug_app', 'moto S3 server', 'demo')
        from werkzeug.serving import make_server  # moto's

        class QuietHandler(moto.MotoRequestHandler):  # type: ignore[name-defined, misc]
            def log(self, *args: Any) -> None:
                """Do not print a line per request."""

        self.counter = RequestCounter(moto.DomainDispatcherApplication(moto.create_backend_app))
        self._server = make_server(
            self.host, self.port, self.counter, threaded=True, request_handler=QuietHandler
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread to end; connections that
        clients keep alive are dropped at their next request.
        """
        if self.counter is not None:
            self.counter.cut()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def create_buckets(self, *names: str) -> List[str]:
        """Create buckets on the server (volumes never create buckets).

        Parameters
        ----------
        names: list of string
            Bucket names.

        Returns
        -------
        list of string
        """
        from s3fs import S3FileSystem
        fs = S3FileSystem(skip_instance_cache=True, **self.storage_options())
        for name in names:
            fs.mkdir(name)
        return list(names)

    def __enter__(self) -> MotoS3Server:
        return self.start()

    def __exit__(self, *args: Any) -> None:
        self.stop()


def main() -> None:  # pragma: no cover - a long-running process, used by benchmarks
    """Run the server until interrupted, printing its endpoint on one line."""
    import argparse
    parser = argparse.ArgumentParser(description='moto S3 server on 127.0.0.1 with request counts')
    parser.add_argument('--port', type=int, default=0)
    server = MotoS3Server(port=parser.parse_args().port).start()
    print(server.endpoint_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == '__main__':  # pragma: no cover
    main()
