"""Credentials in URLs: taken out before a URL is kept anywhere.

A URL such as ``webdav://user:secret@host/dir`` or ``http://user:secret@host/``
carries a password. Volumes keep, show and serialize only the URL without it
(:func:`split_credentials`); the user name and password become storage
options of the filesystem, which are never serialized or shown.
"""

import re
from typing import NamedTuple, Optional
from urllib.parse import unquote


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
