"""A WsgiDAV server (anonymous access) on 127.0.0.1 over a folder (needs
``wsgidav`` and ``cheroot``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp

from flowserv_fsspec.testing.moto_server import RequestCounter


class WebdavServer:
    """WebDAV over HTTP, served by cheroot in a background thread (a context
    manager); requests are counted (and can be cut) by the same middleware as
    the S3 server's.
    """

    def __init__(self, root: Path, port: int = 0):
        """Initialize the server for a folder, on a free port unless given."""
        app = WsgiDAVApp({
            'provider_mapping': {'/': str(root)},
            'simple_dc': {'user_mapping': {'*': True}},
            'http_authenticator': {'domain_controller': None},
            'logging': {'enable': False}, 'verbose': 0,
        })
        self.counter = RequestCounter(app)
        self._server = wsgi.Server(('127.0.0.1', port), self.counter)
        self._thread = threading.Thread(target=self._server.serve, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        port: int = self._server.bind_addr[1]
        return port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port``."""
        return f'http://127.0.0.1:{self.port}'

    def __enter__(self) -> WebdavServer:
        self._server.prepare()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; kept-alive connections are dropped at their next request."""
        self.counter.cut()
        self._server.stop()
        self._thread.join(timeout=30)

    def __exit__(self, *args: Any) -> None:
        self.stop()
