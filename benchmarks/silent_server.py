"""How long each network backend waits for a server that never answers.

Run: ``python benchmarks/silent_server.py [s3 gcs azure sftp webdav http]``
(needs the ``test`` extra; all backends by default, one after the other,
about 6 minutes). A TCP server on 127.0.0.1 accepts every connection and
never answers (``flowserv_fsspec.testing.silent_server``); each backend's volume, with its
default timeout and retries, walks its root there. Prints the seconds until
the typed error and the error's first line.
"""

import os
import sys
import time

from flowserv_fsspec import from_url
from flowserv_fsspec.testing.azurite_server import connection_string
from flowserv_fsspec.testing.silent_server import SilentServer


def volume(backend: str, address: str):
    """The backend's volume pointed at the silent server, default settings."""
    if backend == 's3':
        return from_url('s3://bkt/p', endpoint_url=f'http://{address}', key='k', secret='s')
    if backend == 'gcs':
        os.environ['STORAGE_EMULATOR_HOST'] = f'http://{address}'
        return from_url('gs://bkt/p', skip_instance_cache=True)
    if backend == 'azure':
        return from_url('az://bkt/p', connection_string=connection_string(address))
    if backend == 'sftp':
        return from_url(f'sftp://{address}/d')
    if backend == 'webdav':
        return from_url(f'webdav://{address}/d')
    return from_url(f'http://{address}/d/')


def main() -> None:
    backends = sys.argv[1:] or ['s3', 'gcs', 'azure', 'sftp', 'webdav', 'http']
    for backend in backends:
        with SilentServer() as silent:
            start = time.monotonic()
            try:
                outcome = f'no error: {len(volume(backend, silent.address).walk(None))} files'
            except Exception as ex:
                outcome = f'{type(ex).__name__}: {str(ex).splitlines()[0][:90]}'
            print(f'{backend:<7} {time.monotonic() - start:7.1f} s  {outcome}', flush=True)


if __name__ == '__main__':
    main()
