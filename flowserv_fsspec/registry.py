"""Selection of volume classes by URL protocol and by document type.

The registry maps URL protocols (``s3``, ``file``, ...) and flowserv document
types (``s3``, ``fs``, ...) to volume classes. Any fsspec protocol without a
registered class is served by the generic :class:`FsspecVolume`. Backends added
later (gcs, sftp, azure, plugins) call :func:`register` and need no change here.
"""

from typing import Any, Dict, Iterable, Optional, Type

import fsspec

from flowserv_fsspec.backends.azure import AZURE_STORE, AzureVolume
from flowserv_fsspec.backends.gcs import GC_STORE, GCVolume
from flowserv_fsspec.backends.local import FS_STORE, LocalVolume
from flowserv_fsspec.backends.s3 import S3_STORE, S3Volume
from flowserv_fsspec.backends.sftp import SFTP_STORE, SftpVolume
from flowserv_fsspec.backends.webdav import WEBDAV_STORE, WebdavVolume
from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.documents import FSSPEC_STORE
from flowserv_fsspec.errors import InvalidConfigurationError, MissingExtraError
from flowserv_fsspec.volume import FsspecVolume


_BY_PROTOCOL: Dict[str, Type[FsspecVolume]] = dict()
_BY_DOC_TYPE: Dict[str, Type[FsspecVolume]] = dict()


def register(
    volume_class: Type[FsspecVolume], protocols: Iterable[str] = (),
    doc_type: Optional[str] = None
) -> None:
    """Register a volume class for URL protocols and a document type.

    The class provides ``from_url(url, identifier, **storage_options)`` and
    ``from_dict(doc)``. A later registration of the same protocol or type
    replaces the earlier one.

    Parameters
    ----------
    volume_class: type
        Subclass of :class:`flowserv_fsspec.volume.FsspecVolume`.
    protocols: list of string, default=()
        URL protocols served by the class (without '://').
    doc_type: string, default=None
        Value of the ``type`` field of the class's documents.
    """
    for protocol in protocols:
        _BY_PROTOCOL[protocol] = volume_class
    if doc_type is not None:
        _BY_DOC_TYPE[doc_type] = volume_class


def from_url(url: str, identifier: Optional[str] = None, **storage_options: Any) -> StorageVolume:
    """Get the volume for a URL: ``s3://bucket/prefix``, ``file:///dir``, a plain
    path, ``memory://name``, or any other protocol that fsspec knows.

    Parameters
    ----------
    url: string
        URL (or local path) of the volume root.
    identifier: string, default=None
        Unique volume identifier.
    storage_options: dict
        Options for the backend's filesystem (credentials, endpoint, ...);
        never serialized.

    Returns
    -------
    flowserv_fsspec.base.StorageVolume

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if not isinstance(url, str) or not url:
        raise InvalidConfigurationError('volume URL', url, 'expected a non-empty string')
    protocol = fsspec.core.split_protocol(url)[0] or 'file'
    volume_class = _BY_PROTOCOL.get(protocol, FsspecVolume)
    try:
        return volume_class.from_url(url, identifier=identifier, **storage_options)
    except InvalidConfigurationError as ex:
        if isinstance(ex, MissingExtraError) or ex.value == url:
            raise
        raise InvalidConfigurationError('volume URL', url, str(ex)) from ex


def Volume(doc: Dict) -> StorageVolume:
    """Create a storage volume from its serialized document (flowserv's factory).

    Expects a serialization object that contains at least the volume type
    ``type`` (``fs`` when missing), like flowserv's ``Volume``.

    Parameters
    ----------
    doc: dict
        Serialization dictionary that provides access to storage volume type and
        the implementation-specific volume parameters.

    Returns
    -------
    flowserv_fsspec.base.StorageVolume

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if not isinstance(doc, dict):
        raise InvalidConfigurationError('volume document', doc, 'expected a dictionary')
    doc_type = doc.get('type', FS_STORE)
    volume_class = _BY_DOC_TYPE.get(doc_type)
    if volume_class is None:
        known = ', '.join(sorted(_BY_DOC_TYPE))
        raise InvalidConfigurationError('storage volume type', doc_type, f'known types: {known}')
    return volume_class.from_dict(doc)


register(FsspecVolume, doc_type=FSSPEC_STORE)
register(LocalVolume, protocols=('file', 'local'), doc_type=FS_STORE)
register(S3Volume, protocols=('s3', 's3a'), doc_type=S3_STORE)
register(GCVolume, protocols=('gs', 'gcs'), doc_type=GC_STORE)
register(AzureVolume, protocols=('az', 'abfs', 'abfss'), doc_type=AZURE_STORE)
register(SftpVolume, protocols=('sftp', 'ssh'), doc_type=SFTP_STORE)
register(WebdavVolume, protocols=('webdav', 'dav', 'webdavs', 'davs'), doc_type=WEBDAV_STORE)
