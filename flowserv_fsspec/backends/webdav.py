"""Volumes on WebDAV servers through webdav4 (extra ``webdav``).

URLs: ``webdav://host[:port]/path`` or ``dav://...`` (HTTP),
``webdavs://...`` or ``davs://...`` (HTTPS). Credentials (``auth``) are given
as ``storage_options`` and never serialized.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Dict, Optional
from urllib.parse import quote, urlsplit

from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.documents import make_doc, read_args
from flowserv_fsspec.errors import InvalidConfigurationError, InvalidKeyError
from flowserv_fsspec.keys import join_key, normalize_key
from flowserv_fsspec.urls import check_server, split_credentials
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import FolderWrites


WEBDAV_STORE = 'webdav'
"""Type identifier for storage volume serializations."""

HTTPS_PROTOCOLS = ('webdavs', 'davs')
"""URL protocols that mean WebDAV over HTTPS."""


def WebDav(
    base_url: str, basedir: Optional[str] = None, identifier: Optional[str] = None
) -> Dict[str, Any]:
    """Get configuration object for a WebDAV storage volume.

    Parameters
    ----------
    base_url: string
        HTTP(S) address of the WebDAV server.
    basedir: string, default=None
        Folder below the server's address for all files.
    identifier: string, default=None
        Optional storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(WEBDAV_STORE, identifier, base_url=base_url, basedir=basedir)


def literal_filesystem_class() -> Any:
    """Get this backend's ``WebdavFileSystem`` class: one that sends paths literally.

    webdav4 puts paths into URLs unescaped: ``a%20b`` reached the server as
    ``a b`` and ``a;b`` as ``a``. The client of this filesystem percent-encodes
    every path it joins to the server's address (the answers' paths come back
    decoded), so each key names exactly one resource.
    """
    return _literal_class(import_backend('webdav4.fsspec', 'webdav://', 'webdav'))


@functools.cache
def _literal_class(webdav: ModuleType) -> Any:
    """Build the class once per webdav4 module, so that fsspec shares the
    instances built with the same arguments.
    """
    import httpx  # webdav4's HTTP client

    class LiteralClient(webdav.Client):  # type: ignore[misc, name-defined]
        def join_url(self, path: str, add_trailing_slash: bool = False) -> Any:
            return super().join_url(quote(path, safe='/'), add_trailing_slash)

    class LiteralWebdavFileSystem(webdav.WebdavFileSystem):  # type: ignore[misc, name-defined]
        def __init__(self, base_url: str, auth: Any = None, **client_opts: Any):
            client_opts.setdefault('chunk_size', self.blocksize)
            client = LiteralClient(base_url, auth=auth, **client_opts)
            super().__init__(base_url, client=client)

        @staticmethod
        def client_takers() -> Any:
            """Give the functions the options of the client go to (webdav4, httpx)."""
            return LiteralClient.__init__, webdav.Client.__init__, httpx.Client.__init__

    return LiteralWebdavFileSystem


class WebdavWrites(FolderWrites):
    """Folder writes with the names and the rename that WebDAV servers need."""

    def check(self, key: str, path: str) -> None:
        """Refuse names that a MOVE would misplace: servers such as WsgiDAV
        decode the Destination header before parsing it as a URL, so ';' in
        the last segment and '?' anywhere cut the name short (``a;b`` would
        overwrite ``a``). Such files can still be read, listed and deleted.
        """
        if '?' in key or ';' in key.rpartition('/')[2]:
            raise InvalidKeyError(
                key, "WebDAV servers cut MOVE destinations at ';' and '?': "
                'writing it could overwrite another file'
            )

    def remove(self, path: str) -> None:
        """Delete a file or a whole folder with one DELETE (webdav4's
        ``rm_file`` sends it for either).
        """
        self.fs.rm_file(path)

    def rename(self, temp: str, path: str) -> None:
        """Replace the target with one MOVE (webdav4's ``mv`` copies without
        overwriting).
        """
        self.fs.client.move(temp, path, overwrite=True)


class WebdavVolume(FsspecVolume):
    """Storage volume for the files below a folder of a WebDAV server."""

    writes_class = WebdavWrites

    def __init__(
        self, base_url: str, basedir: Optional[str] = None, identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
    ):
        """Initialize the server address and the base folder.

        Parameters
        ----------
        base_url: string
            HTTP(S) address of the WebDAV server.
        basedir: string, default=None
            Folder below the server's address for all files.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for ``webdav4.fsspec.WebdavFileSystem`` (e.g. ``auth``);
            never serialized.
        fs: webdav4.fsspec.WebdavFileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        options = dict(storage_options or {})
        if isinstance(base_url, str):
            base_url, username, password = split_credentials(base_url)
            if username or password:
                options.setdefault('auth', (username or '', password or ''))
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ('http', 'https') or not parts.hostname:
            raise InvalidConfigurationError('WebDAV address', base_url, 'expected http(s)://...')
        check_server(base_url)
        self.base_url = base_url
        self.basedir = basedir
        if fs is None:
            options.setdefault('timeout', timeout_option(options))  # httpx: connect and read
            filesystem = literal_filesystem_class()
            check_options('WebDAV', options, filesystem.__init__, *filesystem.client_takers())
            fs = filesystem(base_url, **options)
        super().__init__(fs, root=normalize_key(basedir, allow_empty=True), identifier=identifier)

    @property
    def url(self) -> str:
        """URL of the volume root (``webdav://`` or ``webdavs://``)."""
        parts = urlsplit(self.base_url)
        protocol = 'webdavs' if parts.scheme == 'https' else 'webdav'
        return f'{protocol}://{parts.netloc}/{join_key(parts.path, self.root)}'

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'WebDAV folder {self.url}'

    @classmethod
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> WebdavVolume:
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
        flowserv_fsspec.backends.webdav.WebdavVolume
        """
        args = read_args(doc, WEBDAV_STORE, required=('base_url',), types={'basedir': (str,)})
        return cls(
            args['base_url'], args.get('basedir'), doc.get('id'), storage_options=storage_options
        )

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> WebdavVolume:
        """Get a volume for ``webdav://host[:port]/path`` (or dav, webdavs, davs).

        Parameters
        ----------
        url: string
            WebDAV URL of the base folder.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options for ``webdav4.fsspec.WebdavFileSystem`` (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.webdav.WebdavVolume
        """
        parts = urlsplit(url)
        scheme = 'https' if parts.scheme in HTTPS_PROTOCOLS else 'http'
        return cls(
            f'{scheme}://{parts.netloc}', parts.path.strip('/') or None, identifier,
            storage_options=storage_options
        )

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> WebdavVolume:
        return WebdavVolume(self.base_url, join_key(self.basedir, key), identifier, fs=self.fs)

    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        Returns
        -------
        dict
        """
        return WebDav(self.base_url, self.basedir, self.identifier)
