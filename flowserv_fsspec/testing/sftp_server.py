"""An asyncssh SFTP server on 127.0.0.1, serving a folder as its root
(needs ``asyncssh``, which the ``sftp`` extra installs).
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any, List, Optional

import asyncssh


class SftpServer:
    """SFTP server with a throwaway host key, accepting one client key (a
    context manager: serving between enter and exit).

    ``client_key`` and ``known_hosts_line`` let a client authenticate and
    verify the server the way a real deployment would.
    """

    def __init__(self, root: Path):
        """Initialize the keys; ``root`` is the folder that clients see as '/'."""
        self.root = root
        self.host_key = asyncssh.generate_private_key('ssh-ed25519')
        self.client_key = asyncssh.generate_private_key('ssh-ed25519')
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Optional[asyncssh.SSHAcceptor] = None
        self._connections: List[asyncssh.SSHServerConnection] = list()

    @property
    def known_hosts_line(self) -> str:
        """The server's line for a client's ``known_hosts``."""
        key = self.host_key.export_public_key('openssh').decode().strip()
        return f'[127.0.0.1]:{self.port} {key}\n'

    def __enter__(self) -> SftpServer:
        allowed = self.client_key.public_data
        connections = self._connections

        class Auth(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                connections.append(conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                return bool(key.public_data == allowed)

        def sftp_factory(chan: Any) -> asyncssh.SFTPServer:
            return asyncssh.SFTPServer(chan, chroot=os.fsencode(self.root))

        async def listen() -> asyncssh.SSHAcceptor:
            return await asyncssh.listen(
                '127.0.0.1', 0, server_host_keys=[self.host_key], server_factory=Auth,
                sftp_factory=sftp_factory
            )

        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *args: Any) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Stop listening, close the clients' connections and end every task
        of the server's loop (a task left pending is reported when the loop is
        collected: 'Task was destroyed but it is pending!').
        """
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for conn in self._connections:
            conn.close()
        for conn in self._connections:
            await conn.wait_closed()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
