"""Azurite's blob service (from npm) on 127.0.0.1, telemetry off.

The Azurite package is installed on first use with npm into ``.cache/azurite``
of the repository; without node/npm on the machine the Azure tests cannot run.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional


AZURITE_VERSION = '3.35.0'
CACHE = Path(__file__).resolve().parents[2] / '.cache' / 'azurite'
ACCOUNT = 'devstoreaccount1'
# The documented, public key of Azurite's development account (not a secret).
ACCOUNT_KEY = (
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
)


def connection_string(address: str) -> str:
    """The development account's connection string for a blob endpoint at host:port."""
    return (
        f'DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};'
        f'BlobEndpoint=http://{address}/{ACCOUNT};'
    )


def azurite_binary() -> Optional[str]:
    """Path of ``azurite-blob``, installing it with npm if needed; None without npm."""
    local_bin = str(CACHE / 'node_modules' / '.bin')
    found = shutil.which('azurite-blob') or shutil.which('azurite-blob', path=local_bin)
    if found:
        return found
    if not shutil.which('npm') or not shutil.which('node'):
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ['npm', 'install', '--no-audit', '--no-fund', '--prefix', str(CACHE),
         f'azurite@{AZURITE_VERSION}'],
        check=True, capture_output=True, timeout=600
    )
    return shutil.which('azurite-blob', path=local_bin)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class AzuriteServer:
    """Azurite blob service in its own process, data in a temporary folder."""

    def __init__(self, binary: str, location: Path):
        self.binary = binary
        self.location = location
        self.port = free_port()
        self._proc = None

    @property
    def connection_string(self) -> str:
        return connection_string(f'127.0.0.1:{self.port}')

    def __enter__(self):
        self._proc = subprocess.Popen(
            [self.binary, '--blobHost', '127.0.0.1', '--blobPort', str(self.port),
             '--location', str(self.location), '--silent', '--skipApiVersionCheck',
             '--disableTelemetry'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.5).close()
                return self
            except OSError as ex:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    code = self._proc.poll()
                    raise RuntimeError(f'Azurite did not start (exit code {code})') from ex
                time.sleep(0.1)

    def __exit__(self, *args):
        self._proc.terminate()
        self._proc.wait(timeout=30)
