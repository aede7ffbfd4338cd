"""Volumes on AWS S3 (and S3-compatible servers) through s3fs.

Credentials, region and endpoint come from the standard AWS configuration
(environment variables such as ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, or the shared config files), or from
``storage_options`` given in code. Neither is ever serialized or shown.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import time
from typing import Any, Dict, Iterator, List, Optional

from fsspec import AbstractFileSystem
from fsspec.asyn import sync

from flowserv_fsspec.backends.bucket import BucketVolume
from flowserv_fsspec.backends.s3_client import s3_filesystem
from flowserv_fsspec.backends.s3_writes import MTIME_METADATA, S3Writes
from flowserv_fsspec.concurrency import Window
from flowserv_fsspec.documents import make_doc
from flowserv_fsspec.errors import InvalidConfigurationError, StorageError, VolumeNotFoundError
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.handles import COPY_CHUNK, Modified
from flowserv_fsspec.leftovers import Leftover
from flowserv_fsspec.listing import Entry
from flowserv_fsspec.parts import Ranges
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.writes import raise_first


S3_STORE = 's3'
"""Type identifier for storage volume serializations."""


def S3Bucket(
    bucket: str, prefix: Optional[str] = None, identifier: Optional[str] = None
) -> Dict[str, Any]:
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
    S3 object buckets, read through fsspec: ``open()`` gives the contents as a
    BytesIO, ``stream()`` reads in bounded blocks; ``size()`` never downloads.
    """

    __slots__ = ('bucket',)

    def __init__(self, bucket: Any, key: str, size: Optional[int] = None):
        """Initialize the S3 bucket and file key.

        Parameters
        ----------
        bucket: flowserv_fsspec.backends.s3.S3Volume, string or boto3 Bucket
            The bucket that holds the object: a volume of it, its name
            (credentials and endpoint from the AWS environment), or a boto3
            ``Bucket`` resource, as flowserv passes (its client's endpoint,
            region and credentials are used).
        key: string
            Object key in the bucket (including the volume prefix).
        size: int, default=None
            Object size, when known from a listing.
        """
        volume = bucket if isinstance(bucket, S3Volume) else bucket_volume(bucket)
        super().__init__(
            volume.fs, f'{volume.bucket_id}/{key}', key, volume.described, size=size,
            parts=volume.parts
        )
        self.bucket = bucket

    def modified(self) -> Optional[Modified]:
        """Get the modification time that an upload kept in the object's
        metadata (``mtime``), else its upload time: from an answer that had
        it (a read of the object), else with one HEAD request (listings give
        no metadata).

        Returns
        -------
        flowserv_fsspec.handles.Modified
        """
        if self._mtime is None:
            with translate_errors(self.key, self.volume):
                sync(self.fs.loop, self.head_time)
        return self._mtime

    def ask_modified(self) -> Optional[concurrent.futures.Future[None]]:
        """Start the HEAD request of ``modified()`` on the filesystem's loop
        (None where the time is known).

        Returns
        -------
        concurrent.futures.Future or None
        """
        if self._mtime is not None:
            return None
        return asyncio.run_coroutine_threadsafe(self.head_time(), self.fs.loop)

    async def head_time(self) -> None:
        """Keep the modification time that one HEAD request gives."""
        bucket, key = self.path.split('/', 1)
        self.note_time(await self.fs._call_s3('head_object', Bucket=bucket, Key=key))

    def note_time(self, answer: Dict[str, Any]) -> None:
        """Keep the modification time of a HEAD or GET answer (see ``modified``)."""
        kept = answer.get('Metadata', {}).get(MTIME_METADATA)
        try:
            self._mtime = Modified(float(kept), True)
        except (TypeError, ValueError):  # none, or not a number
            self._mtime = Modified(answer['LastModified'].timestamp(), False)

    async def read_head(self, end: int) -> bytes:
        """Read the bytes before ``end`` with one ranged GET, keeping the
        modification time of its answer (no HEAD needed for it).
        """
        bucket, key = self.path.split('/', 1)
        answer = await self.fs._call_s3(
            'get_object', Bucket=bucket, Key=key, Range=f'bytes=0-{end - 1}'
        )
        try:
            data: bytes = await answer['Body'].read()
        finally:
            answer['Body'].close()
        self.note_time(answer)
        return data

    def ranges(self) -> Ranges:
        """Get ranged GETs, each pinned to the version that a first HEAD found
        (``If-Match`` its ETag): an object replaced meanwhile fails the read
        instead of mixing versions.

        Returns
        -------
        flowserv_fsspec.parts.Ranges

        Raises
        ------
        flowserv_fsspec.errors.UnknownFileError
        """
        bucket, key = self.path.split('/', 1)
        with translate_errors(self.key, self.volume):
            head = self.fs.call_s3('head_object', Bucket=bucket, Key=key)
        self.note_time(head)

        async def fetch(start: int, end: int) -> bytearray:
            response = await self.fs._call_s3(
                'get_object', Bucket=bucket, Key=key, Range=f'bytes={start}-{end - 1}',
                IfMatch=head['ETag']
            )
            # Into one buffer of the part's size: reading the body whole would
            # hold its chunks and their join at once.
            data, filled = bytearray(end - start), 0
            try:
                async for chunk in response['Body'].iter_chunks(COPY_CHUNK):
                    data[filled:filled + len(chunk)] = chunk
                    filled += len(chunk)
            finally:
                response['Body'].close()
            return data if filled == len(data) else data[:filled]

        return Ranges(self.fs.loop, fetch, head['ContentLength'], self.key, self.volume)


def bucket_volume(bucket: Any) -> S3Volume:
    """Get the volume of a whole bucket given by name or as a boto3 ``Bucket``.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if isinstance(bucket, str):
        return S3Volume(bucket)
    client = getattr(getattr(bucket, 'meta', None), 'client', None)
    if client is None or not isinstance(getattr(bucket, 'name', None), str):
        raise InvalidConfigurationError(
            'S3 bucket', type(bucket).__name__, 'expected an S3Volume, a name or a boto3 Bucket'
        )
    options: Dict[str, Any] = {
        'endpoint_url': client.meta.endpoint_url,
        'client_kwargs': {'region_name': client.meta.region_name},
    }
    credentials = client._get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        options.update(key=frozen.access_key, secret=frozen.secret_key, token=frozen.token)
    return S3Volume(bucket.name, storage_options=options)


class S3Volume(BucketVolume):
    """Implementation of the bucket interface for AWS S3 buckets."""

    doc_type = S3_STORE
    kind = 'AWS S3 storage bucket'
    writes_class = S3Writes

    def __init__(
        self, bucket_id: str, prefix: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
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
        self.bucket_id = bucket_id
        super().__init__(bucket_id, prefix, identifier, storage_options=storage_options, fs=fs)

    @classmethod
    def make_fs(cls, options: Dict[str, Any]) -> AbstractFileSystem:
        """Build the volume's S3 client (see :mod:`flowserv_fsspec.backends.s3_client`)."""
        return s3_filesystem(options)

    def find_leftovers(self, older_than: float) -> List[Leftover]:
        """Find the multipart uploads below the prefix that were started more
        than ``older_than`` seconds ago and never completed or aborted.
        """
        prefix = self.root.partition('/')[2]
        prefix += '/' if prefix else ''
        now, found = time.time(), list()
        markers: Dict[str, str] = dict()
        while True:
            with translate_errors(prefix, self.describe(), missing=VolumeNotFoundError):
                page = self.fs.call_s3(
                    'list_multipart_uploads', Bucket=self.bucket, Prefix=prefix, **markers
                )
            for upload in page.get('Uploads', []):
                age = now - upload['Initiated'].timestamp()
                if age >= older_than:
                    found.append(Leftover(
                        'multipart upload', upload['Key'][len(prefix):], age,
                        functools.partial(
                            self.fs.call_s3, 'abort_multipart_upload', Bucket=self.bucket,
                            Key=upload['Key'], UploadId=upload['UploadId']
                        )
                    ))
            if not page.get('IsTruncated'):
                return found
            markers = {
                'KeyMarker': page['NextKeyMarker'], 'UploadIdMarker': page['NextUploadIdMarker']
            }

    def _listing(self, path: str, key: str) -> Iterator[Entry]:
        """Stream the objects at and below a key: the object at the key itself
        (one HEAD), then a flat listing of what is below it, a page of 1,000
        keys at a time, which S3 gives in the order of the keys.
        """
        bucket, _, prefix = path.partition('/')
        found = False
        if key:
            for name, info in self._object_at(path).items():
                found = True
                yield name, info['size'], None
        for page in self._pages(key, Bucket=bucket, Prefix=prefix + '/' if prefix else ''):
            for listed in page.get('Contents', []):
                found = True
                if not listed['Key'].endswith('/'):  # a folder marker, no file
                    yield (
                        f"{bucket}/{listed['Key']}", listed['Size'],
                        listed['LastModified'].timestamp(),
                    )
        if not found:
            self._refuse_missing_container(key)

    def _pages(self, key: str, **params: Any) -> Iterator[Dict[str, Any]]:
        """Give the pages of a listing in order, each next page asked for as
        soon as its continuation token is known: while the caller walks one
        page, the next is on its way (as rclone lists ahead).
        """
        ahead = Window(self.fs.loop, 1)
        ahead.submit(self.fs._call_s3('list_objects_v2', **params))
        try:
            while ahead.pending:
                with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
                    page = ahead.next_result()
                token = page.get('NextContinuationToken') if page.get('IsTruncated') else None
                if token:
                    params['ContinuationToken'] = token
                    ahead.submit(self.fs._call_s3('list_objects_v2', **params))
                yield page
        finally:
            ahead.cancel()

    def _remove(self, path: str, key: str) -> None:
        """Delete the objects that ``walk(key)`` lists a page at a time: the
        first page of what is left, listed again after each DeleteObjects (no
        continuation token is trusted across deletes), so that memory holds
        1,000 keys whatever the number of objects.
        """
        last: List[str] = []
        while True:
            batch = [name for name, _, _ in itertools.islice(self._listing(path, key), 1000)]
            if not batch:
                return
            if batch == last:  # the storage said deleted, and lists them still
                raise StorageError(key, self.describe(), RuntimeError(
                    f'{len(batch)} objects are still listed after their delete'
                ))
            with translate_errors(key, self.describe()):
                raise_first(self.writes.remove_files(batch))
            last = batch

    def _object_at(self, path: str) -> Dict[str, Dict[str, Any]]:
        """One HEAD request (s3fs's ``info`` lists the prefix after a 404)."""
        bucket, _, key = path.partition('/')
        try:
            head = self.fs.call_s3('head_object', Bucket=bucket, Key=key)
        except FileNotFoundError:
            return {}
        return {path: {'type': 'file', 'size': head['ContentLength']}}

    def listed_file(
        self, path: str, key: str, size: Optional[int], seconds: Optional[float]
    ) -> S3File:
        """Build the handle of a listed object, with the size listed (its
        kept time takes a HEAD request: see ``S3File.modified``).
        """
        handle = S3File(self, path.split('/', 1)[1], size=size)
        handle.key = key  # errors name the key in the volume, as on every backend
        return handle
