"""http(s):// volumes: fsspec's HTTP filesystem (read-only for most servers),
with the URL's credentials as basic auth, its query as parameters of every
request, and a bounded wait.

fsspec's HTTP paths are whole URLs, so whatever a URL carries besides the
server and the path (user, password, a query such as ``?token=...``) is
taken out of it before it becomes the volume's root: it is used for every
request, and never shown, logged or serialized.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, Optional
from urllib.parse import parse_qsl, urlsplit

import fsspec

from flowserv_fsspec.backends import check_options, timeout_option
from flowserv_fsspec.urls import split_credentials
from flowserv_fsspec.volume import FsspecVolume


class HttpVolume(FsspecVolume):
    """Storage volume for the files below a URL of an HTTP(S) server."""

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> HttpVolume:
        """Get a volume for ``http(s)://[user:password@]host[:port]/path[?query]``.

        Parameters
        ----------
        url: string
            URL of the volume root.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options of fsspec's ``HTTPFileSystem`` and of aiohttp's requests,
            and ``timeout`` (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.http.HttpVolume

        Raises
        ------
        flowserv_fsspec.errors.InvalidConfigurationError
        """
        clean, username, password = split_credentials(url)
        parts = urlsplit(clean)
        options = http_options(storage_options, username, password)
        if parts.query:
            options['params'] = {**dict(parse_qsl(parts.query)), **options.get('params', {})}
        fs = fsspec.filesystem(parts.scheme, **options)
        return cls(fs, root=parts._replace(query='', fragment='').geturl(), identifier=identifier)


def http_options(
    options: Dict[str, Any], username: Optional[str], password: Optional[str]
) -> Dict[str, Any]:
    """Storage options of fsspec's HTTP filesystem: the credentials of the URL
    as basic auth, and the option ``timeout`` (connect and each read; aiohttp
    would wait 5 minutes for a silent server, fsspec's walk twice that).
    """
    import aiohttp  # fsspec[http]: imported when an http volume is built
    from fsspec.implementations.http import HTTPFileSystem

    options = dict(options)
    timeout = timeout_option(options)
    check_options('HTTP', options, HTTPFileSystem.__init__, aiohttp.ClientSession._request)
    client = dict(options.get('client_kwargs') or {})
    client.setdefault('timeout', aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout))
    if username or password:
        token = base64.b64encode(f'{username or ""}:{password or ""}'.encode()).decode()
        client['headers'] = {'Authorization': f'Basic {token}', **(client.get('headers') or {})}
    options['client_kwargs'] = client
    return options
