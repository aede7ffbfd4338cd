"""How S3 volumes write: one PUT up to a part, concurrent multipart uploads
above, CopyObject (UploadPartCopy over 5 GiB) server-side, and the source's
modification time kept in each object's ``mtime`` metadata (rclone's).
"""

from __future__ import annotations

import functools
import itertools
import logging
from typing import IO, Any, Callable, Coroutine, Dict, Iterable, List, Optional

from flowserv_fsspec.concurrency import Window, run_each
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.handles import IOHandle, Modified, modified_of, read_stream, regular_file
from flowserv_fsspec.parts import upload_parts
from flowserv_fsspec.writes import ObjectWrites, Outcomes


LOG = logging.getLogger(__name__)

MTIME_METADATA = 'mtime'
"""Object metadata that keeps a source's modification time (rclone's name)."""

S3_COPY_LIMIT = 5 * 1024 ** 3
"""Largest object that one CopyObject request can copy."""

MAX_PARTS = 10000
"""Most parts of one multipart upload."""


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
