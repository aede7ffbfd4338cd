"""Azurite's blob service (from npm) on 127.0.0.1, telemetry off.

:func:`azurite_binary` installs the Azurite package on first use with npm
into a cache folder; without node/npm on the machine there is none.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

from flowserv_fsspec.testing.processes import free_port, wait_until_listening


AZURITE_VERSION = '3.35.0'
ACCOUNT = 'devstoreaccount1'
# The documented, public key of Azurite's development account (not a secret).
ACCOUNT_KEY = (
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
)


def connection_string(address: str) -> str:
    """Give the development account's connection string for a blob endpoint
    at ``host:port``.
    """
    return (
        f'DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};'
        f'BlobEndpoint=http://{address}/{ACCOUNT};'
    )


def azurite_binary(cache: Path) -> Optional[str]:
    """Find ``azurite-blob`` on the PATH or in a cache folder, installing it
    there with npm if needed.

    Parameters
    ----------
    cache: pathlib.Path
        Folder for the npm installation.

    Returns
    -------
    string or None
        Path of the binary; None without node and npm.
    """
    local_bin = str(cache / 'node_modules' / '.bin')
    found = shutil.which('azurite-blob') or shutil.which('azurite-blob', path=local_bin)
    if found:
        return found
    if not shutil.which('npm') or not shutil.which('node'):
        return None
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ['npm', 'install', '--no-audit', '--no-fund', '--prefix', str(cache),
         f'azurite@{AZURITE_VERSION}'],
        check=True, capture_output=True, timeout=600
    )
    return shutil.which('azurite-blob', path=local_bin)


class AzuriteServer:
    """Azurite blob service in its own process (a context manager), data in a
    folder.
    """

    def __init__(self, binary: str, location: Path):
        """Initialize with the ``azurite-blob`` binary and the data folder."""
        self.binary = binary
        self.location = location
        self.port = free_port()
        self._proc: Optional[subprocess.Popen[bytes]] = None

    @property
    def connection_string(self) -> str:
        """The connection string of the development account on this server."""
        return connection_string(f'127.0.0.1:{self.port}')

    def __enter__(self) -> AzuriteServer:
        self._proc = subprocess.Popen(
            [self.binary, '--blobHost', '127.0.0.1', '--blobPort', str(self.port),
             '--location', str(self.location), '--silent', '--skipApiVersionCheck',
             '--disableTelemetry'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until_listening(self._proc, self.port, 'Azurite')
        return self

    def __exit__(self, *args: Any) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
