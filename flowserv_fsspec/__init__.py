"""flowserv_fsspec: flowserv's storage volumes on every fsspec filesystem.

The public API: the contract (:class:`StorageVolume`, :class:`IOHandle`,
:class:`IOBuffer`, :func:`copy_files`), the generic :class:`FsspecVolume`,
selection by URL (:func:`from_url`) and by flowserv document (:func:`Volume`),
each backend's volume and document helper, :func:`sync_files` and
:func:`cleanup`. Errors live in :mod:`flowserv_fsspec.errors`.

Importing the package imports none of its modules: each name is imported
from its module when it is first used, so that the command line starts (and
answers Ctrl-C) before any backend is loaded.
"""

import importlib


TYPE_CHECKING = False  # as typing's (not imported here: the program starts faster)
if TYPE_CHECKING:  # the names of EXPORTS, for type checkers
    from flowserv_fsspec.backends.azure import AZURE_STORE, AzureContainer, AzureVolume
    from flowserv_fsspec.backends.gcs import GC_STORE, GCBucket, GCVolume
    from flowserv_fsspec.backends.local import FS_STORE, FStore, LocalVolume
    from flowserv_fsspec.backends.memory import MemoryVolume
    from flowserv_fsspec.backends.s3 import S3_STORE, S3Bucket, S3File, S3Volume
    from flowserv_fsspec.backends.sftp import SFTP_STORE, RemoteStorage, Sftp, SftpVolume
    from flowserv_fsspec.backends.webdav import WEBDAV_STORE, WebDav, WebdavVolume
    from flowserv_fsspec.base import StorageVolume, copy_files
    from flowserv_fsspec.cleanup import cleanup
    from flowserv_fsspec.documents import FSSPEC_STORE, FsspecStore
    from flowserv_fsspec.errors import TransferError
    from flowserv_fsspec.files import FsspecFile
    from flowserv_fsspec.handles import IOBuffer, IOHandle
    from flowserv_fsspec.inside_flowserv import use_in_flowserv
    from flowserv_fsspec.registry import Volume, from_url, register
    from flowserv_fsspec.sync import sync_files
    from flowserv_fsspec.volume import FsspecVolume


__version__ = '0.1.0'

EXPORTS = {
    **dict.fromkeys(('AZURE_STORE', 'AzureContainer', 'AzureVolume'), 'backends.azure'),
    **dict.fromkeys(('GC_STORE', 'GCBucket', 'GCVolume'), 'backends.gcs'),
    **dict.fromkeys(('FS_STORE', 'FStore', 'LocalVolume'), 'backends.local'),
    'MemoryVolume': 'backends.memory',
    **dict.fromkeys(('S3_STORE', 'S3Bucket', 'S3File', 'S3Volume'), 'backends.s3'),
    **dict.fromkeys(('SFTP_STORE', 'RemoteStorage', 'Sftp', 'SftpVolume'), 'backends.sftp'),
    **dict.fromkeys(('WEBDAV_STORE', 'WebDav', 'WebdavVolume'), 'backends.webdav'),
    **dict.fromkeys(('StorageVolume', 'copy_files'), 'base'),
    'cleanup': 'cleanup',
    **dict.fromkeys(('FSSPEC_STORE', 'FsspecStore'), 'documents'),
    'TransferError': 'errors',
    'FsspecFile': 'files',
    **dict.fromkeys(('IOBuffer', 'IOHandle'), 'handles'),
    'use_in_flowserv': 'inside_flowserv',
    **dict.fromkeys(('Volume', 'from_url', 'register'), 'registry'),
    'sync_files': 'sync',
    'FsspecVolume': 'volume',
}
"""Each public name and the module (below the package) that defines it."""

__all__ = [
    'AZURE_STORE', 'AzureContainer', 'AzureVolume', 'FSSPEC_STORE', 'FS_STORE', 'FStore',
    'FsspecFile', 'FsspecStore', 'FsspecVolume', 'GCBucket', 'GCVolume', 'GC_STORE', 'IOBuffer',
    'IOHandle', 'LocalVolume', 'MemoryVolume', 'RemoteStorage', 'S3Bucket', 'S3File',
    'S3Volume', 'S3_STORE', 'SFTP_STORE', 'Sftp', 'SftpVolume', 'StorageVolume',
    'TransferError', 'Volume', 'WEBDAV_STORE', 'WebDav', 'WebdavVolume', 'cleanup',
    'copy_files', 'from_url', 'register', 'sync_files', 'use_in_flowserv', '__version__',
]
"""The public names (those of EXPORTS, and the version)."""


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use."""
    if name not in EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'{__name__}.{EXPORTS[name]}'), name)
    globals()[name] = value
    return value
