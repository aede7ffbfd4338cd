"""Credentials in URLs: taken out before a URL is kept anywhere.

A URL such as ``webdav://user:secret@host/dir`` or ``http://user:secret@host/``
carries a password. Volumes keep, show and serialize only the URL without it
(:func:`split_credentials`); the user name and password become storage
options of the filesystem, which are never serialized or shown.
"""

from typing import NamedTuple, Optional
from urllib.parse import unquote, urlsplit, urlunsplit


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

    Parameters
    ----------
    url: string
        A URL, possibly with ``user[:password]@`` before its host.

    Returns
    -------
    flowserv_fsspec.urls.Credentials
    """
    if '://' not in url:
        return Credentials(url, None, None)
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition('@')
    if not at:
        return Credentials(url, None, None)
    user, colon, password = userinfo.partition(':')
    return Credentials(
        urlunsplit(parts._replace(netloc=hostport)), unquote(user) or None,
        unquote(password) if colon else None
    )
