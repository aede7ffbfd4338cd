"""Volumes on Azure Blob Storage through adlfs (extra ``azure``).

Credentials come from the environment that adlfs reads
(``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_ACCOUNT_NAME`` with
``AZURE_STORAGE_ACCOUNT_KEY`` or a SAS token, service principals) or from
``storage_options``; never from the document.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import import_backend
from flowserv_fsspec.backends.bucket import BucketVolume
from flowserv_fsspec.documents import make_doc


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


class AzureVolume(BucketVolume):
    """Storage volume for the blobs below a prefix of an Azure Blob container."""

    doc_type = AZURE_STORE
    bucket_arg = 'container'
    kind = 'Azure Blob container'

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
        """Build an ``adlfs.AzureBlobFileSystem`` that caches no listings."""
        adlfs = import_backend('adlfs', 'az://', 'azure')
        return adlfs.AzureBlobFileSystem(use_listings_cache=False, **options)
