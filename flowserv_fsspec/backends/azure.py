"""Volumes on Azure Blob Storage through adlfs (extra ``azure``).

Credentials come from the environment that adlfs reads
(``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_ACCOUNT_NAME`` with
``AZURE_STORAGE_ACCOUNT_KEY`` or a SAS token, service principals) or from
``storage_options``; never from the document.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.backends.bucket import BucketVolume
from flowserv_fsspec.documents import make_doc
from flowserv_fsspec.handles import IOHandle, read_stream
from flowserv_fsspec.writes import ObjectWrites


AZURE_STORE = 'az'
"""Type identifier for storage volume serializations."""


def AzureContainer(
    container: str, prefix: Optional[str] = None, identifier: Optional[str] = None
) -> Dict[str, Any]:
    """Get configuration object for an Azure Blob Storage volume.

    Parameters
    ----------
    container: string
        Blob container name.
    prefix: string, default=None
        Key-prefix for all files.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(AZURE_STORE, identifier, container=container, prefix=prefix)


class AzureWrites(ObjectWrites):
    """Object writes through the Azure SDK's own concurrent block upload."""

    def put(self, file: IOHandle, key: str, path: str) -> None:
        """Upload a blob with ``upload_blob`` (through adlfs's ``pipe_file``),
        which stages blocks of a big stream with ``parts.concurrency`` in
        flight and commits them at the end: a failed upload commits nothing,
        so the previous blob (if any) stays. Block sizes are the SDK's (one
        PUT up to 64 MiB, else 4 MiB blocks); ``part_size`` does not apply.
        """
        with read_stream(file) as src:
            self.fs.pipe_file(path, src, max_concurrency=self.parts.concurrency)


class AzureVolume(BucketVolume):
    """Storage volume for the blobs below a prefix of an Azure Blob container."""

    doc_type = AZURE_STORE
    bucket_arg = 'container'
    kind = 'Azure Blob container'
    writes_class = AzureWrites

    def __init__(
        self, container: str, prefix: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
    ):
        """Initialize the container.

        Parameters
        ----------
        container: string
            Blob container name.
        prefix: string, default=None
            Key-prefix for all files.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for ``adlfs.AzureBlobFileSystem`` (e.g. ``connection_string``,
            ``account_name``). Never serialized.
        fs: adlfs.AzureBlobFileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        self.container = container
        super().__init__(container, prefix, identifier, storage_options=storage_options, fs=fs)

    @classmethod
    def make_fs(cls, options: Dict[str, Any]) -> AbstractFileSystem:
        """Build an ``adlfs.AzureBlobFileSystem`` that caches no listings.

        The option ``timeout`` bounds the connect and each read of every
        request. adlfs passes timeouts only to blob reads and writes, so they
        are set on the client's transport, for listings too (azure-core's
        defaults: 20 s to connect, 60 s per read). Each request is tried 3
        times, 3 and 5 s apart (azure-storage: 4 times, 18, 24 and 42 s
        apart); a listing is two requests (adlfs asks whether the path is a
        blob first), so a silent server fails one in about 140 s with the
        default timeout (it took over 8 minutes).
        """
        adlfs = import_backend('adlfs', 'az://', 'azure')
        timeout = timeout_option(options)
        check_options('Azure', options, adlfs.AzureBlobFileSystem.__init__)
        fs = adlfs.AzureBlobFileSystem(
            use_listings_cache=False, connection_timeout=timeout, read_timeout=timeout, **options
        )
        config = fs.service_client._config
        config.transport.connection_config.timeout = timeout
        config.transport.connection_config.read_timeout = timeout
        config.retry_policy.total_retries = 2
        config.retry_policy.initial_backoff = 1
        config.retry_policy.increment_base = 2
        return fs
