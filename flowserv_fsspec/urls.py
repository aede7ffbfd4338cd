"""URLs: credentials taken out before a URL is kept anywhere, and the
fsspec filesystem that a URL names.

A URL such as ``webdav://user:secret@host/dir`` or ``http://user:secret@host/``
carries a password. Volumes keep, show and serialize only the URL without it
(:func:`split_credentials`); the user name and password become storage
options of the filesystem, which are never serialized or shown.
"""

import re
from typing import Any, Dict, NamedTuple, Optional, Tuple
from urllib.parse import unquote

import fsspec
from fsspec import AbstractFileSystem

from flowserv_fsspec.backends.http import http_options
from flowserv_fsspec.errors import InvalidConfigurationError


USERINFO = re.compile(r'(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@')
"""A URL's scheme and the user information before the last '@' of its authority."""


class Credentials(NamedTuple):
    """A URL without user name and password, and the two taken out of it."""

    url: str
    """The URL with its authority reduced to host and port."""
    username: Optional[str]
    """The user name (percent-decoded), or None."""
    password: Optional[str]
    """The password (percent-decoded), or None."""


def split_credentials(url: str) -> Credentials:
    """Take the user name and password out of a URL's authority.

    Works on malformed URLs too (no parsing beyond the authority), so that
    even the message about a bad URL never shows its password.

    Parameters
    ----------
    url: string
        A URL, possibly with ``user[:password]@`` before its host.

    Returns
    -------
    flowserv_fsspec.urls.Credentials
    """
    found = USERINFO.match(url) if isinstance(url, str) else None
    if found is None:
        return Credentials(url, None, None)
    user, colon, password = found.group('userinfo').partition(':')
    return Credentials(
        found.group('scheme') + url[found.end():], unquote(user) or None,
        unquote(password) if colon else None
    )


def filesystem_for_url(
    url: str, storage_options: Dict[str, Any]
) -> Tuple[AbstractFileSystem, str]:
    """Build the fsspec filesystem that a URL's protocol names, with the URL's
    credentials as its options.

    Parameters
    ----------
    url: string
        An fsspec URL, e.g. ``memory://runs`` or ``ftp://user:pw@host/dir``.
    storage_options: dict
        Options for the filesystem (never serialized).

    Returns
    -------
    (fsspec.AbstractFileSystem, string)
        The filesystem and the URL without credentials.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        Naming the URL without its password.
    """
    protocol = fsspec.core.split_protocol(url)[0] or 'file'
    clean, username, password = split_credentials(url)
    try:
        fs_class = fsspec.get_filesystem_class(protocol)
        if username or password:
            # ftp and the like read them from the URL (http does not).
            storage_options = {**fs_class._get_kwargs_from_urls(url), **storage_options}
        if protocol in ('http', 'https'):
            storage_options = http_options(storage_options, username, password)
        fs = fs_class(**storage_options)
    except Exception as ex:
        raise InvalidConfigurationError(
            'volume URL', clean, f'{type(ex).__name__}: {ex}'.replace(url, clean)
        ) from None
    return fs, clean
