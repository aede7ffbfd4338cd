"""An FTP server (pyftpdlib) on 127.0.0.1 over a folder, with one user who
may do everything, and optionally anonymous logins (needs ``pyftpdlib``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer as Server


USER = 'runner'
"""The user name."""

PASSWORD = 'ftp-secret'
"""The user's password."""


class FtpServer:
    """FTP served by pyftpdlib in a background thread (a context manager)."""

    def __init__(self, root: Path, anonymous: bool = False):
        """Initialize the server for a folder, on a free port; with
        ``anonymous``, a login without credentials may do everything too.
        """
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(root), perm='elradfmwMT')
        if anonymous:
            authorizer.add_anonymous(str(root), perm='elradfmwMT')
        handler = type('Handler', (FTPHandler,), {'authorizer': authorizer})
        # Its own event loop: pyftpdlib's default one is shared by all servers.
        self._server = Server(('127.0.0.1', 0), handler, ioloop=IOLoop())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'timeout': 0.2}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on."""
        port: int = self._server.address[1]
        return port

    def url(self, path: str = '') -> str:
        """``ftp://user:password@127.0.0.1:port/path``."""
        return f'ftp://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{path}'

    def __enter__(self) -> FtpServer:
        self._thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self._server.close_all()
        self._thread.join(timeout=30)
