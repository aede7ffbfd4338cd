"""What a test of a storage volume needs: the contract suite
(:class:`VolumeContract`, needs pytest), helpers to write and read volumes,
and moto's S3 server on 127.0.0.1 with request counters
(:mod:`flowserv_fsspec.testing.moto_server`, needs ``moto[server]``).

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
