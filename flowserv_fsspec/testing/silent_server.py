"""A TCP server on 127.0.0.1 that accepts connections and never answers:
the endpoint that makes clients without timeouts hang.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, List


class SilentServer:
    """Accepts every connection, reads nothing, sends nothing (a context
    manager: serving between enter and exit).
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(64)
        self._conns: List[socket.socket] = list()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def address(self) -> str:
        """``127.0.0.1:port``."""
        return f'127.0.0.1:{self.port}'

    def _serve(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self._stopped = True
        self._sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(timeout=5)
