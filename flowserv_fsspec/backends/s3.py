"""Volumes on AWS S3 (and S3-compatible servers) through s3fs.

Credentials, region and endpoint come from the standard AWS configuration
(environment variables such as ``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, or the shared config files), or from
``storage_options`` given in code. Neither is ever serialized or shown.
"""

from __future__ import annotations

import functools
import itertools
import logging
import socket
import time
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, Callable, Coroutine, Dict, Iterable, List, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.backends.bucket import BucketVolume
from flowserv_fsspec.concurrency import run_each
from flowserv_fsspec.documents import make_doc
from flowserv_fsspec.errors import InvalidConfigurationError, VolumeNotFoundError
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.handles import (
    COPY_CHUNK,
    IOHandle,
    Modified,
    modified_of,
    read_stream,
    regular_file,
)
from flowserv_fsspec.leftovers import Leftover
from flowserv_fsspec.parts import Ranges, Window, upload_parts
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.writes import ObjectWrites, Outcomes


S3_STORE = 's3'
"""Type identifier for storage volume serializations."""

LOG = logging.getLogger(__name__)

MTIME_METADATA = 'mtime'
"""Object metadata that keeps a source's modification time (rclone's name)."""

DEFAULT_ATTEMPTS = 4
"""Attempts botocore makes per request unless the option ``retries`` says otherwise."""

S3_COPY_LIMIT = 5 * 1024 ** 3
"""Largest object that one CopyObject request can copy."""

MAX_PARTS = 10000
"""Most parts of one multipart upload."""

DEFAULT_CONNECTIONS = 32
"""Connections a volume's client keeps open (botocore's default is 10): the
many small requests of a bulk copy wait on the network's round trips, not
on bandwidth, so more of them in flight make a copy over a distance faster."""


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
            volume.fs, f'{volume.bucket_id}/{key}', key, volume.describe(), size=size,
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
            bucket, key = self.path.split('/', 1)
            with translate_errors(self.key, self.volume):
                self.note_time(self.fs.call_s3('head_object', Bucket=bucket, Key=key))
        return self._mtime

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


def kept_time(mtime: Optional[Modified]) -> Dict[str, Any]:
    """Get the request arguments that keep a source's modification time in an
    object's metadata (``mtime``, seconds, as rclone writes it), or none.
    """
    if mtime is None:
        return {}
    return {'Metadata': {MTIME_METADATA: f'{mtime.seconds:.9f}'.rstrip('0').rstrip('.')}}


class S3Writes(ObjectWrites):
    """Object writes with concurrent multipart uploads and S3's cheapest
    server-side copy.
    """

    def put(self, file: IOHandle, key: str, path: str) -> None:
        """Upload an object: one PUT up to one part's size, else a multipart
        upload with up to ``parts.concurrency`` parts in flight (see
        :func:`flowserv_fsspec.parts.upload_parts`). A failed upload is
        aborted: no object appears, and the previous one (if any) stays.
        """
        with read_stream(file) as src:
            fd = regular_file(src)
            parts = upload_parts(src, self.parts.size, fd)
            first = next(parts, None)
            metadata = kept_time(modified_of(file))
            if first is None or first[1] < self.parts.size:
                self.fs.pipe_file(path, first[0].read() if first else b'', **metadata)
                return
            # Slices of a file are read past src: a progress counter is told.
            advance = getattr(src, 'advance', None) if fd is not None else None
            self._multipart(path, (
                functools.partial(self._upload_part, path, body, length, advance)
                for body, length in itertools.chain([first], parts)
            ), metadata)

    def put_many(
        self, keys: List[str], paths: List[str], contents: List[bytes],
        times: List[Optional[Modified]]
    ) -> Outcomes:
        """Write small objects concurrently, each with its source's
        modification time (see :func:`kept_time`).
        """
        return run_each(self.fs, [
            ('pipe_file', (path, data), kept_time(mtime))
            for path, data, mtime in zip(paths, contents, times)
        ])

    def copy_many(self, files: List[FsspecFile], keys: List[str], paths: List[str]) -> Outcomes:
        """Copy objects with one CopyObject request each, sent concurrently
        (s3fs's ``cp_file`` first asks every object's size, known here from
        the listing); objects over 5 GiB, too big for one request, in parts
        (:meth:`copy_in_parts`).
        """
        small = [i for i, file in enumerate(files) if file.size() <= S3_COPY_LIMIT]
        outcomes: Outcomes = [None] * len(files)
        copied = run_each(self.fs, [('copy_basic', (files[i].path, paths[i])) for i in small])
        for i, error in zip(small, copied):
            outcomes[i] = error
        for i, file in enumerate(files):
            if file.size() > S3_COPY_LIMIT:
                try:
                    self.copy_in_parts(file.path, paths[i])
                except Exception as ex:
                    outcomes[i] = ex
        return outcomes

    def copy_in_parts(self, source: str, path: str) -> None:
        """Copy an object server-side with a multipart upload of ranges of it
        (UploadPartCopy), ``parts.concurrency`` parts in flight, each pinned to
        the source's ETag: a source replaced meanwhile fails the copy, which
        is then aborted (no object appears).

        Parameters
        ----------
        source: string
            Path of the object to copy (bucket/key).
        path: string
            Path of the copy.
        """
        bucket, key = source.split('/', 1)
        head = self.fs.call_s3('head_object', Bucket=bucket, Key=key)
        size = head['ContentLength']
        part = max(self.parts.size, -(-size // MAX_PARTS))
        self._multipart(path, (
            functools.partial(
                self._copy_part, path, source, start, min(start + part, size) - 1, head['ETag']
            )
            for start in range(0, size, part)
        ))

    def _multipart(
        self, path: str, parts: Iterable[Callable[[str, int], Coroutine[Any, Any, Any]]],
        metadata: Optional[Dict[str, Any]] = None
    ) -> None:
        """Run a multipart upload (of an object with the given metadata): each
        part's coroutine is made with the upload id and its number; at most
        ``parts.concurrency`` run at once. On any failure (or interrupt) the
        upload is aborted.
        """
        bucket, key = path.split('/', 1)
        upload = self.fs.call_s3(
            'create_multipart_upload', Bucket=bucket, Key=key, **(metadata or {})
        )['UploadId']
        window = Window(self.fs.loop, self.parts.concurrency)
        done: List[Dict[str, Any]] = list()
        try:
            for number, make in enumerate(parts, 1):
                if window.full():
                    done.append(window.any_result())
                window.submit(make(upload, number))
            while window.pending:
                done.append(window.any_result())
            self.fs.call_s3(
                'complete_multipart_upload', Bucket=bucket, Key=key, UploadId=upload,
                MultipartUpload={'Parts': sorted(done, key=lambda p: p['PartNumber'])}
            )
        except BaseException as failure:
            window.cancel()
            try:
                self.fs.call_s3('abort_multipart_upload', Bucket=bucket, Key=key, UploadId=upload)
            except Exception as ex:
                left = f'multipart upload {upload} of {path} is left open'
                LOG.warning('%s: its abort failed (%s); cleanup removes it', left, ex)
                if isinstance(failure, Exception):
                    raise OSError(
                        f'{failure}; the abort failed too ({ex}): {left} (remove it with '
                        "flowserv-fsspec cleanup or cleanup() on the volume)"
                    ) from failure
            raise

    async def _upload_part(
        self, path: str, body: IO[bytes], length: int, advance: Optional[Callable[[int], None]],
        upload: str, number: int
    ) -> Dict[str, Any]:
        bucket, key = path.split('/', 1)
        response = await self.fs._call_s3(
            'upload_part', Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body
        )
        if advance is not None:  # the part was read from the file, not through src
            advance(length)
        return {'PartNumber': number, 'ETag': response['ETag']}

    async def _copy_part(
        self, path: str, source: str, first: int, last: int, etag: str, upload: str, number: int
    ) -> Dict[str, Any]:
        bucket, key = path.split('/', 1)
        response = await self.fs._call_s3(
            'upload_part_copy', Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
            CopySource=source, CopySourceRange=f'bytes={first}-{last}', CopySourceIfMatch=etag
        )
        return {'PartNumber': number, 'ETag': response['CopyPartResult']['ETag']}


@dataclass(frozen=True)
class BoundedSockets:
    """The client's socket factory: sockets whose sent bytes must be
    acknowledged within ``timeout`` seconds (Linux's ``TCP_USER_TIMEOUT``), so
    that an upload to a server that stops reading fails then, where aiohttp
    would wait forever for room to write. Equal for equal timeouts (fsspec
    shares filesystems with equal options) and picklable.
    """

    timeout: float

    def __call__(self, addr_info: Any) -> socket.socket:
        """Make a socket for an address (aiohttp's ``socket_factory``)."""
        family, kind, proto = addr_info[:3]
        sock = socket.socket(family, kind, proto)
        if hasattr(socket, 'TCP_USER_TIMEOUT'):
            sock.setsockopt(
                socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(self.timeout * 1000)
            )
        return sock


def no_expect_continue(request: Any, **kwargs: Any) -> None:
    """Send an upload's body without waiting for ``100 Continue`` first:
    botocore asks for it on every upload, and aiohttp waits for it with no
    timeout, so a server that never answers held an upload forever. Without
    it the read timeout bounds the wait for the answer, as for every request.
    """
    if 'Expect' in request.headers:
        del request.headers['Expect']


@functools.cache
def bounded_class(s3fs: ModuleType) -> Any:
    """Build (once, so that fsspec shares equal instances) the
    ``S3FileSystem`` whose clients upload without waiting for ``100 Continue``
    (see :func:`no_expect_continue`). It is this module's ``S3FileSystem``
    (built on first access, so that importing the module does not import
    s3fs), which is how its instances pickle.
    """
    class S3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc, name-defined]
        async def set_session(self, refresh: bool = False, kwargs: Any = None) -> Any:
            client = await super().set_session(refresh, kwargs or {})
            client.meta.events.register(
                'before-sign.s3', no_expect_continue, unique_id='flowserv-no-expect-continue'
            )
            return client

    S3FileSystem.__module__, S3FileSystem.__qualname__ = __name__, 'S3FileSystem'
    return S3FileSystem


def __getattr__(name: str) -> Any:
    """``S3FileSystem``, built on first access (see :func:`bounded_class`)."""
    if name == 'S3FileSystem':
        return bounded_class(import_backend('s3fs', 's3://', 's3'))
    raise AttributeError(name)


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
        """Build an ``s3fs.S3FileSystem`` that caches no listings.

        The option ``timeout`` (seconds, default
        :data:`~flowserv_fsspec.backends.DEFAULT_TIMEOUT`) bounds the connect and
        each read. The option ``retries`` (attempts per request, 1 = no retry)
        sets both retry layers: botocore's (HTTP 500/503, throttling,
        connection errors and timeouts; ``standard`` mode, exponential backoff
        with jitter) and s3fs's own (read timeouts, broken responses), which
        wraps botocore's. Without it botocore makes 4 attempts and s3fs one:
        s3fs's 5 around botocore's 5 made 25 attempts, so a silent server held
        a listing for minutes (with this default: 4 x 20 s). An explicit
        ``config_kwargs={'retries': ...}`` takes precedence for botocore.
        Connections: ``config_kwargs={'max_pool_connections': n}`` (default
        :data:`DEFAULT_CONNECTIONS`).
        """
        s3fs = import_backend('s3fs', 's3://', 's3')
        timeout = timeout_option(options)
        retries = options.pop('retries', None)
        check_options('S3', options, s3fs.S3FileSystem.__init__)
        if retries is not None and (
            not isinstance(retries, int) or isinstance(retries, bool) or retries < 1
        ):
            raise InvalidConfigurationError('S3 option retries', retries, 'expected int >= 1')
        config = dict(options.get('config_kwargs') or {})
        config.setdefault('retries', {
            'total_max_attempts': retries or DEFAULT_ATTEMPTS, 'mode': 'standard'
        })
        config.setdefault('connect_timeout', timeout)
        config.setdefault('read_timeout', timeout)
        config.setdefault('max_pool_connections', DEFAULT_CONNECTIONS)
        config.setdefault('connector_args', {'socket_factory': BoundedSockets(timeout)})
        options['config_kwargs'] = config
        fs = bounded_class(s3fs)(use_listings_cache=False, **options)
        fs.retries = retries or 1
        return fs

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

    def _object_at(self, path: str) -> Dict[str, Dict[str, Any]]:
        """One HEAD request (s3fs's ``info`` lists the prefix after a 404)."""
        bucket, _, key = path.partition('/')
        try:
            head = self.fs.call_s3('head_object', Bucket=bucket, Key=key)
        except FileNotFoundError:
            return {}
        return {path: {'type': 'file', 'size': head['ContentLength']}}

    def _handle(self, path: str, key: str, info: Dict[str, Any]) -> S3File:
        handle = S3File(self, path.split('/', 1)[1], size=info.get('size'))
        handle.key = key  # errors name the key in the volume, as on every backend
        return handle
