"""A TCP server on 127.0.0.1 that accepts connections and never answers:
the endpoint that makes clients without timeouts hang."""

import socket
import threading


class SilentServer:
    """Accepts every connection, reads nothing, sends nothing."""

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(64)
        self._conns = []
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def address(self) -> str:
        return f'127.0.0.1:{self.port}'

    def _serve(self):
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *args):
        self._stopped = True
        self._sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(timeout=5)
