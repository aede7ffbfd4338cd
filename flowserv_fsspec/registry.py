"""Selection of volume classes by URL protocol and by document type.

The registry maps URL protocols (``s3``, ``file``, ...) and flowserv document
types (``s3``, ``fs``, ...) to volume classes. Any fsspec protocol without a
registered class is served by the generic :class:`FsspecVolume`.

Other packages add volume types without changing this code: an entry point
in the group ``flowserv_fsspec.volumes`` names a volume class with the class
attributes ``protocols`` (URL schemes) and ``doc_type`` (document type).
Plugins are loaded the first time a URL or document is not served by a
built-in class, so the built-in classes take precedence and a broken plugin
only affects its own schemes.
"""

import os
from importlib.metadata import entry_points
from typing import Any, Dict, Iterable, Mapping, Optional, Type, Union

from flowserv_fsspec.backends.azure import AZURE_STORE, AzureVolume
from flowserv_fsspec.backends.ftp import FtpVolume
from flowserv_fsspec.backends.gcs import GC_STORE, GCVolume
from flowserv_fsspec.backends.http import HttpVolume
from flowserv_fsspec.backends.local import FS_STORE, LOCAL_PROTOCOLS, LocalVolume
from flowserv_fsspec.backends.memory import MemoryVolume
from flowserv_fsspec.backends.s3 import S3_STORE, S3Volume
from flowserv_fsspec.backends.sftp import SFTP_STORE, SftpVolume
from flowserv_fsspec.backends.webdav import WEBDAV_STORE, WebdavVolume
from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.documents import FSSPEC_STORE, read_args
from flowserv_fsspec.errors import InvalidConfigurationError, MissingExtraError
from flowserv_fsspec.urls import check_server, strip_credentials, upath_url, url_protocol
from flowserv_fsspec.volume import FsspecVolume


ENTRY_POINT_GROUP = 'flowserv_fsspec.volumes'
"""Entry-point group of volume plugins."""

_BY_PROTOCOL: Dict[str, Type[StorageVolume]] = dict()
_BY_DOC_TYPE: Dict[str, Type[StorageVolume]] = dict()
_PLUGINS_LOADED = [False]


def register(
    volume_class: Type[StorageVolume], protocols: Iterable[str] = (),
    doc_type: Optional[str] = None
) -> None:
    """Register a volume class for URL protocols and a document type.

    The class provides ``from_url(url, identifier, **storage_options)`` and
    ``from_dict(doc)``. A later registration of the same protocol or type
    replaces the earlier one.

    Parameters
    ----------
    volume_class: type
        Subclass of :class:`flowserv_fsspec.base.StorageVolume` (usually of
        :class:`flowserv_fsspec.volume.FsspecVolume`).
    protocols: list of string, default=()
        URL protocols served by the class (without '://').
    doc_type: string, default=None
        Value of the ``type`` field of the class's documents.
    """
    for protocol in protocols:
        _BY_PROTOCOL[protocol] = volume_class
    if doc_type is not None:
        _BY_DOC_TYPE[doc_type] = volume_class


def from_url(
    url: Union[str, 'os.PathLike[str]'], identifier: Optional[str] = None,
    **storage_options: Any
) -> StorageVolume:
    """Get the volume for a URL: ``s3://bucket/prefix``, ``file:///dir``, a plain
    path, ``memory://name``, or any other URL that ``fsspec.core.url_to_fs``
    takes: chained (``simplecache::s3://bucket/prefix``,
    ``zip://folder::file:///data.zip``), with options in it
    (``ftp://user:password@host:2121/dir``). The first protocol selects the
    volume class (unregistered ones: :class:`FsspecVolume`).

    Parameters
    ----------
    url: string, os.PathLike or upath.UPath
        URL (or local path) of the volume root. A UPath brings its storage
        options; those given here take precedence.
    identifier: string, default=None
        Unique volume identifier.
    storage_options: dict
        Options for the backend's filesystem (credentials, endpoint, ...; for
        a chained URL, per protocol as in fsspec: ``s3={...}``); never
        serialized, and never shown with the URL's password.

    Returns
    -------
    flowserv_fsspec.base.StorageVolume

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if isinstance(getattr(url, 'storage_options', None), Mapping) and hasattr(url, 'protocol'):
        # A universal-pathlib UPath: its URL, and its options under the caller's.
        url, options = upath_url(str(url), dict(url.storage_options))  # type: ignore[union-attr]
        storage_options = {**options, **storage_options}
    elif isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url:
        raise InvalidConfigurationError('volume URL', url, 'expected a non-empty string')
    check_server(url)
    protocol = url_protocol(url)
    volume_class = lookup(_BY_PROTOCOL, protocol) or FsspecVolume
    try:
        return volume_class.from_url(url, identifier=identifier, **storage_options)  # type: ignore[attr-defined, no-any-return]
    except InvalidConfigurationError as ex:
        shown = strip_credentials(url)
        if isinstance(ex, MissingExtraError) or ex.value == shown:
            raise
        raise InvalidConfigurationError('volume URL', shown, str(ex)) from ex


def Volume(doc: Dict[str, Any], **storage_options: Any) -> StorageVolume:
    """Create a storage volume from its serialized document (flowserv's factory).

    Expects a serialization object that contains at least the volume type
    ``type`` (``fs`` when missing), like flowserv's ``Volume``.

    Parameters
    ----------
    doc: dict
        Serialization dictionary that provides access to storage volume type and
        the implementation-specific volume parameters.
    storage_options: dict
        Options of the volume's filesystem (``timeout``, ``retries``,
        ``part_size``, credentials, ...), which documents never hold.

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
    if not isinstance(doc_type, str):
        raise InvalidConfigurationError('storage volume type', doc_type, 'expected a string')
    if doc_type == FSSPEC_STORE:
        # Such documents name a URL, and the URL selects the class.
        url = read_args(doc, FSSPEC_STORE, required=('url',))['url']
        return from_url(url, identifier=doc.get('id'), **storage_options)
    volume_class = lookup(_BY_DOC_TYPE, doc_type)
    if volume_class is None:
        known = ', '.join(sorted(_BY_DOC_TYPE))
        raise InvalidConfigurationError('storage volume type', doc_type, f'known types: {known}')
    # Plugins' from_dict may take the document alone.
    return volume_class.from_dict(doc, **storage_options) if storage_options else (
        volume_class.from_dict(doc)
    )


def lookup(table: Dict[str, Type[StorageVolume]], name: Any) -> Optional[Type[StorageVolume]]:
    """Find the class for a protocol or document type; on a miss, load the
    plugins (once) and look again.
    """
    if name not in table and not _PLUGINS_LOADED[0]:
        _PLUGINS_LOADED[0] = True
        load_plugins()
    return table.get(name)


def load_plugins() -> None:
    """Register the volume classes of the ``flowserv_fsspec.volumes`` entry points.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        When a plugin cannot be imported or lacks ``protocols``/``doc_type``.
    """
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            volume_class = entry.load()
        except Exception as ex:
            raise InvalidConfigurationError('volume plugin', entry.value, str(ex)) from ex
        protocols = getattr(volume_class, 'protocols', ())
        doc_type = getattr(volume_class, 'doc_type', None)
        if not protocols and not doc_type:
            raise InvalidConfigurationError(
                'volume plugin', entry.value, 'the class names no protocols and no doc_type'
            )
        register(volume_class, protocols=protocols, doc_type=doc_type)


register(FsspecVolume, doc_type=FSSPEC_STORE)
register(LocalVolume, protocols=[p for p in LOCAL_PROTOCOLS if p], doc_type=FS_STORE)
register(MemoryVolume, protocols=('memory',))
register(HttpVolume, protocols=('http', 'https'))
register(FtpVolume, protocols=('ftp',))
register(S3Volume, protocols=('s3', 's3a'), doc_type=S3_STORE)
register(GCVolume, protocols=('gs', 'gcs'), doc_type=GC_STORE)
register(AzureVolume, protocols=('az', 'abfs', 'abfss'), doc_type=AZURE_STORE)
register(SftpVolume, protocols=('sftp', 'ssh'), doc_type=SFTP_STORE)
register(WebdavVolume, protocols=('webdav', 'dav', 'webdavs', 'davs'), doc_type=WEBDAV_STORE)
