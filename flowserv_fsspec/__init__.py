"""flowserv_fsspec: flowserv's storage volumes on every fsspec filesystem.

The public API: the contract (:class:`StorageVolume`, :class:`IOHandle`,
:class:`IOBuffer`, :func:`copy_files`), the generic :class:`FsspecVolume`,
selection by URL (:func:`from_url`) and by flowserv document (:func:`Volume`),
and each backend's volume and document helper. Errors live in
:mod:`flowserv_fsspec.errors`.
"""

from flowserv_fsspec.backends.azure import AZURE_STORE, AzureContainer, AzureVolume
from flowserv_fsspec.backends.gcs import GC_STORE, GCBucket, GCVolume
from flowserv_fsspec.backends.local import FS_STORE, FStore, LocalVolume
from flowserv_fsspec.backends.memory import MemoryVolume
from flowserv_fsspec.backends.s3 import S3_STORE, S3Bucket, S3File, S3Volume
from flowserv_fsspec.backends.sftp import SFTP_STORE, RemoteStorage, Sftp, SftpVolume
from flowserv_fsspec.backends.webdav import WEBDAV_STORE, WebDav, WebdavVolume
from flowserv_fsspec.base import StorageVolume, copy_files
from flowserv_fsspec.documents import FSSPEC_STORE, FsspecStore
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.handles import IOBuffer, IOHandle
from flowserv_fsspec.inside_flowserv import use_in_flowserv
from flowserv_fsspec.registry import Volume, from_url, register
from flowserv_fsspec.volume import FsspecVolume


__version__ = '0.1.0'

__all__ = [
    'AZURE_STORE', 'AzureContainer', 'AzureVolume', 'FSSPEC_STORE', 'FS_STORE', 'FStore',
    'FsspecFile', 'FsspecStore', 'FsspecVolume', 'GCBucket', 'GCVolume', 'GC_STORE',
    'IOBuffer', 'IOHandle', 'LocalVolume', 'MemoryVolume', 'RemoteStorage', 'S3Bucket',
    'S3File', 'S3Volume', 'S3_STORE', 'SFTP_STORE', 'Sftp', 'SftpVolume', 'StorageVolume',
    'Volume', 'WEBDAV_STORE', 'WebDav', 'WebdavVolume', 'copy_files', 'from_url', 'register',
    'use_in_flowserv', '__version__',
]
