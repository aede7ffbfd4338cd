"""An asyncssh SFTP server on 127.0.0.1, serving a temporary folder as its root."""

import asyncio
import threading
from pathlib import Path

import asyncssh


class SftpServer:
    """SFTP server with a throwaway host key, accepting one client key.

    ``client_key`` and ``known_hosts_line`` let a client authenticate and
    verify the server the way a real deployment would.
    """

    def __init__(self, root: Path):
        self.root = root
        self.host_key = asyncssh.generate_private_key('ssh-ed25519')
        self.client_key = asyncssh.generate_private_key('ssh-ed25519')
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None

    @property
    def known_hosts_line(self) -> str:
        key = self.host_key.export_public_key('openssh').decode().strip()
        return f'[127.0.0.1]:{self.port} {key}\n'

    def __enter__(self):
        allowed = self.client_key.public_data

        class Auth(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def public_key_auth_supported(self):
                return True

            def validate_public_key(self, username, key):
                return key.public_data == allowed

        def sftp_factory(chan):
            return asyncssh.SFTPServer(chan, chroot=str(self.root))

        async def listen():
            return await asyncssh.listen(
                '127.0.0.1', 0, server_host_keys=[self.host_key], server_factory=Auth,
                sftp_factory=sftp_factory
            )

        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *args):
        self._server.close()
        asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
