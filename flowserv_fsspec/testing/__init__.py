"""What a test of a storage volume needs: the contract suite
(:class:`VolumeContract`, needs pytest), helpers to write and read volumes,
and local servers on 127.0.0.1, each in its own module (imported on use,
each needs its server package): moto's S3 server with request counters
(:mod:`~flowserv_fsspec.testing.moto_server`, ``moto[server]``), SFTP
(:mod:`~flowserv_fsspec.testing.sftp_server`, ``asyncssh``), WebDAV
(:mod:`~flowserv_fsspec.testing.webdav_server`, ``wsgidav``), Azurite
(:mod:`~flowserv_fsspec.testing.azurite_server`, node and npm) and a server
that never answers (:mod:`~flowserv_fsspec.testing.silent_server`).

A plugin author runs the whole contract against a volume class of their own::

    import pytest
    from flowserv_fsspec.testing import VolumeContract

    class TestMyVolume(VolumeContract):
        @pytest.fixture
        def volume(self, tmp_path):
            return MyVolume(...)   # a fresh, empty volume for each test
"""

from typing import Any

from flowserv_fsspec.testing.helpers import FailingHandle, files_of, put


def __getattr__(name: str) -> Any:
    """``VolumeContract``, imported on first use (it needs pytest)."""
    if name == 'VolumeContract':
        from flowserv_fsspec.testing.contract import VolumeContract
        return VolumeContract
    raise AttributeError(name)


__all__ = ['FailingHandle', 'VolumeContract', 'files_of', 'put']
