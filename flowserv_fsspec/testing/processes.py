"""Local servers in their own processes: a free port, and waiting until the
server listens on it.
"""

import socket
import subprocess
import time
from typing import Any


def free_port() -> int:
    """Give a port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_listening(
    proc: 'subprocess.Popen[Any]', port: int, name: str, timeout: float = 60
) -> None:
    """Wait until a server process accepts connections on 127.0.0.1:port.

    Raises
    ------
    RuntimeError
        The process ended, or ``timeout`` seconds passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.5).close()
            return
        except OSError as ex:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'{name} did not start (exit code {proc.poll()})') from ex
            time.sleep(0.05)
