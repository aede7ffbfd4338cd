"""Volumes on AWS S3 (and S3-compatible servers) through s3fs.

Credentials, region and endpoint come from the standard AWS configuration
(environment variables such as ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, or the shared config files), or from
``storage_options`` given in code. Neither is ever serialized or shown.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import fsspec
from s3fs import S3FileSystem

from flowserv_fsspec.documents import make_doc, read_args
from flowserv_fsspec.errors import InvalidConfigurationError
from flowserv_fsspec.keys import join_key, normalize_key
from flowserv_fsspec.volume import FsspecFile, FsspecVolume


S3_STORE = 's3'
"""Type identifier for storage volume serializations."""


def S3Bucket(bucket: str, prefix: Optional[str] = None, identifier: Optional[str] = None) -> Dict:
    """Get configuration object for AWS S3 Storage Volume.

    Parameters
    ----------
    bucket: string
        AWS S3 bucket identifier.
    prefix: string, default=None
        Key-prefix for all files.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(S3_STORE, identifier, bucket=bucket, prefix=prefix)


class S3File(FsspecFile):
    """Implementation of the file object interface for files that are stored on
    S3 object buckets, read through fsspec (streamed, never whole).
    """

    def __init__(self, bucket: S3Volume, key: str, size: Optional[int] = None):
        """Initialize the S3 bucket and file key.

        Parameters
        ----------
        bucket: flowserv_fsspec.backends.s3.S3Volume
            Volume of the bucket that holds the object.
        key: string
            Object key in the bucket (including the volume prefix).
        size: int, default=None
            Object size, when known from a listing.
        """
        super().__init__(
            bucket.fs, f'{bucket.bucket_id}/{key}', key, bucket.describe(), size=size
        )


class S3Volume(FsspecVolume):
    """Implementation of the bucket interface for AWS S3 buckets."""

    has_directories = False

    def __init__(
        self, bucket_id: str, prefix: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[S3FileSystem] = None
    ):
        """Initialize the storage bucket.

        Parameters
        ----------
        bucket_id: string
            Unique bucket identifier.
        prefix: string, default=None
            Key-prefix for all files. Only set if the store represents a sub-
            folder store for the bucket.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for ``s3fs.S3FileSystem`` (e.g. ``endpoint_url``, ``key``,
            ``secret``). Never serialized.
        fs: s3fs.S3FileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        if not bucket_id or not isinstance(bucket_id, str) or '/' in bucket_id:
            raise InvalidConfigurationError('S3 bucket', bucket_id, 'expected a bucket name')
        self.bucket_id = bucket_id
        self.prefix = prefix
        if fs is not None and storage_options:
            raise InvalidConfigurationError(
                'S3 volume options', sorted(storage_options), 'give storage_options or fs, not both'
            )
        if fs is None:
            # Listings are not cached: other workers write to the same bucket.
            fs = S3FileSystem(use_listings_cache=False, **(storage_options or {}))
        root = join_key(bucket_id, normalize_key(prefix, allow_empty=True))
        super().__init__(fs, root=root, identifier=identifier)

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'AWS S3 storage bucket {self.url}'

    @classmethod
    def from_dict(cls, doc: Dict) -> S3Volume:
        """Get S3 bucket storage volume instance from dictionary serialization.

        Parameters
        ----------
        doc: dict
            Dictionary serialization as returned by the ``to_dict()`` method.

        Returns
        -------
        flowserv_fsspec.backends.s3.S3Volume
        """
        args = read_args(doc, S3_STORE, required=('bucket',))
        return cls(bucket_id=args['bucket'], prefix=args.get('prefix'), identifier=doc.get('id'))

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> S3Volume:
        """Get a volume for ``s3://bucket/prefix``.

        Parameters
        ----------
        url: string
            ``s3://bucket`` or ``s3://bucket/prefix``.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options for ``s3fs.S3FileSystem`` (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.s3.S3Volume
        """
        bucket, _, prefix = fsspec.core.split_protocol(url)[1].strip('/').partition('/')
        return cls(
            bucket_id=bucket, prefix=prefix or None, identifier=identifier,
            storage_options=storage_options
        )

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> S3Volume:
        return S3Volume(
            bucket_id=self.bucket_id, prefix=join_key(self.prefix, key), identifier=identifier,
            fs=self.fs
        )

    def _handle(self, path: str, key: str, size: Optional[int]) -> S3File:
        return S3File(self, path.split('/', 1)[1], size=size)

    def to_dict(self) -> Dict:
        """Get dictionary serialization for the storage volume.

        Returns
        -------
        dict
        """
        return S3Bucket(bucket=self.bucket_id, prefix=self.prefix, identifier=self.identifier)
