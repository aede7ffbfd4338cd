"""A WsgiDAV server (anonymous access) on 127.0.0.1 over a temporary folder."""

import threading
from pathlib import Path

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp

from flowserv_fsspec.testing.moto_server import RequestCounter


class WebdavServer:
    """WebDAV over HTTP, served by cheroot in a background thread; requests
    are counted (and can be cut) by the same middleware as the S3 server's.
    """

    def __init__(self, root: Path, port: int = 0):
        app = WsgiDAVApp({
            'provider_mapping': {'/': str(root)},
            'simple_dc': {'user_mapping': {'*': True}},
            'http_authenticator': {'domain_controller': None},
            'logging': {'enable': False}, 'verbose': 0,
        })
        self.counter = RequestCounter(app)
        self._server = wsgi.Server(('127.0.0.1', port), self.counter)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self._server.serve()

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def __enter__(self):
        self._server.prepare()
        self._thread.start()
        return self

    def stop(self):
        """Stop serving; kept-alive connections are dropped at their next request."""
        self.counter.cut()
        self._server.stop()
        self._thread.join(timeout=30)

    def __exit__(self, *args):
        self.stop()
