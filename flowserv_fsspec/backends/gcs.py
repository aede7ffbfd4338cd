"""Volumes on Google Cloud Storage through gcsfs (extra ``gcs``).

Credentials come from the Google environment (``GOOGLE_APPLICATION_CREDENTIALS``,
gcloud's configuration) or from ``storage_options`` (``token=...``). With
``STORAGE_EMULATOR_HOST`` set, requests go to that emulator, anonymously
unless a token is given. gcsfs's stable ``GCSFileSystem`` is used, not the
experimental one that probes every bucket's type over gRPC.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.backends.bucket import BucketVolume
from flowserv_fsspec.documents import make_doc
from flowserv_fsspec.writes import ObjectWrites


GC_STORE = 'gc'
"""Type identifier for storage volume serializations."""


def GCBucket(
    bucket: str, prefix: Optional[str] = None, identifier: Optional[str] = None
) -> Dict[str, Any]:
    """Get configuration object for Google Cloud storage volume.

    Parameters
    ----------
    bucket: string
        Google Cloud Storage bucket identifier.
    prefix: string, default=None
        Key-prefix for all files.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(GC_STORE, identifier, bucket=bucket, prefix=prefix)


class GCSWrites(ObjectWrites):
    """Object writes whose failed uploads are left to expire."""

    def abandon(self, out: Any) -> None:
        """Mark a failed upload closed: a resumable upload that is never
        finalized creates no object (GCS expires the session); gcsfs's discard
        sends a DELETE that emulators reject after retrying for half a minute.
        """
        out.closed = True


class GCVolume(BucketVolume):
    """Implementation of the storage volume class for Google Cloud Storage buckets."""

    doc_type = GC_STORE
    kind = 'Google Cloud Storage bucket'
    writes_class = GCSWrites

    def __init__(
        self, bucket_name: str, prefix: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
    ):
        """Initialize the storage bucket.

        Parameters
        ----------
        bucket_name: string
            Name of the Google Cloud Storage bucket.
        prefix: string, default=None
            Key-prefix for all files.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for ``gcsfs.GCSFileSystem`` (e.g. ``project``, ``token``).
            Never serialized.
        fs: gcsfs.GCSFileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        self.bucket_name = bucket_name
        super().__init__(bucket_name, prefix, identifier, storage_options=storage_options, fs=fs)

    @classmethod
    def make_fs(cls, options: Dict[str, Any]) -> AbstractFileSystem:
        """Build a ``gcsfs.GCSFileSystem`` that caches no listings; the option
        ``timeout`` bounds each request (gcsfs tries a request up to 6 times).
        """
        core = import_backend('gcsfs.core', 'gs://', 'gcs')
        check_options('GCS', options, core.GCSFileSystem.__init__, extra=['timeout'])
        options.setdefault('requests_timeout', timeout_option(options))
        if os.environ.get('STORAGE_EMULATOR_HOST'):
            options.setdefault('token', 'anon')
        return core.GCSFileSystem(use_listings_cache=False, **options)
