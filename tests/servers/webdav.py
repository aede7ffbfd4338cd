"""A WsgiDAV server (anonymous access) on 127.0.0.1 over a temporary folder."""

import threading
from pathlib import Path

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp


class WebdavServer:
    """WebDAV over HTTP, served by cheroot in a background thread."""

    def __init__(self, root: Path):
        app = WsgiDAVApp({
            'provider_mapping': {'/': str(root)},
            'simple_dc': {'user_mapping': {'*': True}},
            'http_authenticator': {'domain_controller': None},
            'logging': {'enable': False}, 'verbose': 0,
        })
        self._server = wsgi.Server(('127.0.0.1', 0), app)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self._server.serve()

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self._server.bind_addr[1]}'

    def __enter__(self):
        self._server.prepare()
        self._thread.start()
        return self

    def __exit__(self, *args):
        self._server.stop()
        self._thread.join(timeout=30)
