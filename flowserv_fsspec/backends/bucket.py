"""Volumes below a prefix of a bucket (or container) of an object store.

What S3, Google Cloud Storage and Azure Blob volumes share: a root made of
bucket + prefix, objects written whole (:class:`flowserv_fsspec.writes.ObjectWrites`:
no directories, ``mkdir`` never creates a bucket), a bucket
that must exist (listing an empty root checks it), ``erase()`` that empties
but keeps a bucket, and the flowserv document ``{bucket, prefix}``. Each
backend module only names its filesystem, document type and signature.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

import fsspec
from fsspec import AbstractFileSystem

from flowserv_fsspec.documents import make_doc, read_args
from flowserv_fsspec.errors import InvalidConfigurationError, VolumeError, VolumeNotFoundError
from flowserv_fsspec.keys import is_within, join_key, normalize_key
from flowserv_fsspec.leftovers import Leftover
from flowserv_fsspec.parts import Parts
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.urls import split_credentials
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import ObjectWrites, Writes, raise_first


class BucketVolume(FsspecVolume):
    """Storage volume for the objects below a prefix of a bucket."""

    writes_class: Type[Writes] = ObjectWrites
    doc_type: str = ''
    """Type of the flowserv document."""
    bucket_arg: str = 'bucket'
    """Name of the bucket argument in the document."""
    kind: str = 'bucket'
    """What the volume is, for ``describe()``."""

    def __init__(
        self, bucket: str, prefix: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
    ):
        """Initialize the bucket, the prefix and the filesystem.

        Parameters
        ----------
        bucket: string
            Bucket (or container) name.
        prefix: string, default=None
            Key-prefix for all files.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for the backend's fsspec filesystem, and ``part_size`` and
            ``max_concurrency`` for big files (see :class:`flowserv_fsspec.parts.Parts`);
            never serialized.
        fs: fsspec.AbstractFileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        if not bucket or not isinstance(bucket, str) or '/' in bucket:
            raise InvalidConfigurationError(self.kind, bucket, 'expected a bucket name')
        if fs is not None and storage_options:
            raise InvalidConfigurationError(
                'volume options', sorted(storage_options), 'give storage_options or fs, not both'
            )
        self.bucket = bucket
        self.prefix = prefix
        options = dict(storage_options or {})
        self.parts: Optional[Parts] = Parts.take(options)
        if fs is None:
            try:
                fs = self.make_fs(options)
            except VolumeError:
                raise
            except Exception as ex:  # e.g. adlfs without any credentials: ValueError
                raise InvalidConfigurationError(
                    self.kind, bucket, f'{type(ex).__name__}: {ex}'
                ) from ex
        root = join_key(bucket, normalize_key(prefix, allow_empty=True))
        super().__init__(fs, root=root, identifier=identifier)

    @classmethod
    def make_fs(cls, options: Dict[str, Any]) -> AbstractFileSystem:
        """Build the backend's filesystem; listings must not be cached.

        Parameters
        ----------
        options: dict
            Storage options given by the caller.

        Returns
        -------
        fsspec.AbstractFileSystem
        """
        raise NotImplementedError()  # pragma: no cover

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'{self.kind} {self.url}'

    @classmethod
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> BucketVolume:
        """Get a volume instance from its dictionary serialization.

        Parameters
        ----------
        doc: dict
            Dictionary serialization as returned by the ``to_dict()`` method.
        storage_options: dict
            Options of the volume's filesystem (never serialized; see the
            volume's class).

        Returns
        -------
        flowserv_fsspec.backends.bucket.BucketVolume
        """
        args = read_args(doc, cls.doc_type, required=(cls.bucket_arg,), types={'prefix': (str,)})
        return cls(
            args[cls.bucket_arg], args.get('prefix'), doc.get('id'),
            storage_options=storage_options
        )

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> BucketVolume:
        """Get a volume for ``protocol://bucket/prefix``.

        Parameters
        ----------
        url: string
            URL of the bucket, with an optional prefix.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options for the backend's filesystem (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.bucket.BucketVolume
        """
        clean, user, password = split_credentials(url)
        if user or password:
            raise InvalidConfigurationError('volume URL', clean, (
                f"credentials in {clean.partition(':')[0]}:// URLs are not used: give "
                'them as storage options or in the environment'
            ))
        bucket, _, prefix = fsspec.core.split_protocol(url)[1].strip('/').partition('/')
        return cls(bucket, prefix or None, identifier, storage_options=storage_options)

    def _find(self, path: str, key: str) -> Dict[str, Dict[str, Any]]:
        """List the objects below a key and the object at the key itself: on
        object stores a key can name both (``k`` beside ``k/a``), and the
        filesystems' ``find`` gives only one of them.
        """
        if not key:
            found = super()._find(path, key)
        else:
            parent, _, name = path.rpartition('/')
            with translate_errors(key, self.describe(), missing=VolumeNotFoundError):
                listed = self.fs.find(parent, prefix=name + '/', withdirs=False, detail=True)
                found = {
                    self.fs._strip_protocol(p): info for p, info in listed.items()
                    if is_within(self.fs._strip_protocol(p), path)
                }
                if path not in found:
                    found.update(self._object_at(path))
        if not found:
            self._refuse_missing_container(key)
        return found

    def _refuse_missing_container(self, key: str) -> None:
        """Raise :class:`VolumeNotFoundError` if the bucket is missing (one
        request, after a miss: GCS and Azure answer a read in a missing bucket
        as a missing object).
        """
        if not self.fs.exists(self.bucket):
            raise VolumeNotFoundError(self.describe(), key)

    def _remove(self, path: str, key: str) -> None:
        """Delete the objects that ``walk(key)`` lists: the object at the key
        and those below it, never a sibling that merely shares a prefix, each
        named literally.
        """
        paths = list(self._find(path, key))
        if paths:
            with translate_errors(key, self.describe()):
                raise_first(self.writes.remove_files(paths))

    def find_leftovers(self, older_than: float) -> List[Leftover]:
        """Find unfinished uploads (none here: object stores write no temporary
        objects; backends with uploads that outlive their writer override it).
        """
        return []

    def _object_at(self, path: str) -> Dict[str, Dict[str, Any]]:
        """Get the object at a path with its details, or nothing (hook for
        backends with a cheaper request than ``info``).
        """
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return {}
        return {path: info} if info.get('type') == 'file' else {}

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> BucketVolume:
        volume = type(self)(self.bucket, join_key(self.prefix, key), identifier, fs=self.fs)
        volume.parts, volume.writes = self.parts, self.writes
        return volume

    def _keeps_root(self) -> bool:
        return not self.prefix

    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        Returns
        -------
        dict
        """
        return make_doc(
            self.doc_type, self.identifier, **{self.bucket_arg: self.bucket, 'prefix': self.prefix}
        )
