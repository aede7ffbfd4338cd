"""URLs: credentials taken out before a URL is kept anywhere, and the
fsspec filesystem that a URL names.

A URL such as ``webdav://user:secret@host/dir`` or ``http://user:secret@host/``
carries a password. Volumes keep, show and serialize only the URL without it
(:func:`split_credentials`); the user name and password become storage
options of the filesystem, which are never serialized or shown.
"""

import os
import posixpath
import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import unquote, urlsplit

import fsspec
from fsspec import AbstractFileSystem
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.registry import known_implementations

from flowserv_fsspec.errors import InvalidConfigurationError


CHAIN_SEP = re.compile(r'::(?![^\[\]]*\])')
"""The '::' between the URLs of a chain (not those inside an IPv6 host's brackets)."""

USERINFO = re.compile(r'(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@')
"""A URL's scheme and the user information before the last '@' of its authority."""

RAW_PASSWORD = re.compile(
    r'(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@:]*:(?!\d+[/?#])[^@]*[/?#][^@]*)@'
)
"""A user, ':' and a password that holds '/', '?' or '#' not percent-encoded
(which URL parsers read as the end of the server: ``ftp://u:p/w@host``),
up to the last '@'; a port (``host:8080/path@x``) is none."""


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
    found = USERINFO.match(url) or RAW_PASSWORD.match(url) if isinstance(url, str) else None
    if found is None:
        return Credentials(url, None, None)
    user, colon, password = found.group('userinfo').partition(':')
    return Credentials(
        found.group('scheme') + url[found.end():], unquote(user) or None,
        unquote(password) if colon else None
    )


def upath_url(url: str, options: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """Get the URL and storage options that a universal-pathlib ``UPath``
    stands for: UPath keeps a server's host and port (``ftp``, ``sftp``), a
    WebDAV address (``webdav+http``) and a chain's target (``simplecache::``)
    in its options, and leaves them out of its string.

    Parameters
    ----------
    url: string
        ``str()`` of the UPath.
    options: dict
        Its ``storage_options``.

    Returns
    -------
    (string, dict)
        The URL as a string would name it, and the options left.
    """
    options = dict(options)
    protocol, sep, path = url.partition('://')
    if sep and 'host' in options and '::' not in url:
        port = options.pop('port', None)
        server = options.pop('host') + (f':{port}' if port else '')
        return f'{protocol}://{server}/{path.lstrip("/")}', options
    if protocol == 'webdav' and 'base_url' in options:
        base = urlsplit(options.pop('base_url'))
        scheme = 'webdavs' if base.scheme == 'https' else 'webdav'
        return f'{scheme}://{base.netloc}/{join_url_path(base.path, path)}', options
    target = options.pop('target_protocol', None)
    inner = options.pop('target_options', None)
    if target and inner:
        options.setdefault(target, inner)
    return url, options


def join_url_path(*parts: str) -> str:
    """Join the paths of a URL with single slashes, without a leading one."""
    return '/'.join(part.strip('/') for part in parts if part.strip('/'))


def url_protocol(url: str) -> str:
    """Get the protocol that selects a URL's volume class: the first of a
    chained URL (``simplecache::s3://b/k`` gives ``simplecache``), ``file`` for
    a plain path.

    Parameters
    ----------
    url: string
        An fsspec URL or a local path.

    Returns
    -------
    string
    """
    parts = chain(url)
    return fsspec.core.split_protocol(parts[0])[0] or (parts[0] if len(parts) > 1 else 'file')


def strip_credentials(url: str) -> str:
    """Take user names and passwords out of every URL of a chain
    (see :func:`split_credentials`).

    Parameters
    ----------
    url: string
        An fsspec URL, possibly chained with '::'.

    Returns
    -------
    string
    """
    return '::'.join(split_credentials(part).url for part in chain(url))


def shown_url(location: str) -> str:
    """Get a location as it may be shown: without user names and passwords,
    and without the queries of http(s) URLs (tokens).

    Parameters
    ----------
    location: string
        A URL (possibly chained) or a local path.

    Returns
    -------
    string
    """
    return '::'.join(
        part.partition('?')[0] if part.lower().startswith(('http://', 'https://')) else part
        for part in chain(strip_credentials(location))
    )


def chain(url: str) -> List[str]:
    """Split a chained URL into its URLs (``simplecache::s3://b/k`` gives
    ``['simplecache', 's3://b/k']``; an IPv6 host's '::' is no separator).

    Parameters
    ----------
    url: string
        An fsspec URL.

    Returns
    -------
    list of string
    """
    return CHAIN_SEP.split(url)


def chain_parts(url: str) -> Tuple[List[str], int]:
    """Split a URL into the URLs of its chain, and give the index of the one
    that holds the path: the first with a protocol and '://' (a cache such
    as ``simplecache::`` takes the path of the URL after it).
    """
    parts = chain(url)
    return parts, next((i for i, part in enumerate(parts) if '://' in part), 0)


def child_url(url: str, key: str) -> str:
    """Get the URL of a folder below a volume's URL: the key is appended to
    the path of the chain's first URL that has one (``zip://d::file:///a.zip``
    gives ``zip://d/key::file:///a.zip``; ``simplecache::s3://b/p`` gives
    ``simplecache::s3://b/p/key``).

    Parameters
    ----------
    url: string
        URL of a volume root.
    key: string
        Normalized key of a folder.

    Returns
    -------
    string
    """
    parts, at = chain_parts(url)
    parts[at] += key if parts[at].endswith('/') else '/' + key
    return '::'.join(parts)


def split_url(url: str) -> Tuple[str, str]:
    """Split the last segment off a URL's path (the reverse of
    :func:`child_url`): ``s3://b/runs/x.txt`` gives ``('s3://b/runs', 'x.txt')``,
    ``zip://d/x.txt::file:///a.zip`` gives ``('zip://d::file:///a.zip', 'x.txt')``.
    A path of one segment (``s3://b``) gives the URL and ''.

    Parameters
    ----------
    url: string
        A URL (not a plain path).

    Returns
    -------
    (string, string)
    """
    parts, at = chain_parts(url)
    head, sep, path = parts[at].partition('://')
    if '/' not in path.strip('/'):
        return url, ''
    parent, _, name = path.rstrip('/').rpartition('/')
    parts[at] = head + sep + parent
    return '::'.join(parts), name


class Location(NamedTuple):
    """Where a URL points: the filesystem, the root path in it, and the URL
    to serialize.
    """

    fs: AbstractFileSystem
    """The filesystem, built with the URL's options and the storage options."""
    root: str
    """Path of the root in the filesystem."""
    url: Optional[str]
    """The URL without credentials where it says more than the filesystem's
    ``unstrip_protocol(root)`` (a chain, a host or port), else None."""


def filesystem_for_url(url: str, storage_options: Dict[str, Any]) -> Location:
    """Build the filesystem that a URL names, as ``fsspec.core.url_to_fs``
    does: chained URLs (``simplecache::s3://...``, ``zip://d::file:///a.zip``),
    options in the URL (user, password, host, port) and storage options
    (for a chain, per protocol: ``s3={...}``).

    Parameters
    ----------
    url: string
        An fsspec URL, e.g. ``memory://runs`` or ``ftp://user:pw@host/dir``.
    storage_options: dict
        Options for the filesystem (never serialized).

    Returns
    -------
    flowserv_fsspec.urls.Location

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        Naming the URL without its password.
    """
    clean = strip_credentials(url)
    chained = len(chain(url)) > 1
    try:
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        if isinstance(fs, DirFileSystem) and root == fs.path:
            # url_to_fs gives ``dir::file:///d`` the path '/d', which the
            # DirFileSystem (rooted at /d) would prefix again: its top is meant.
            root = ''
        carries = chained or bool(type(fs)._get_kwargs_from_urls(clean))
    except Exception as ex:
        raise InvalidConfigurationError(
            'volume URL', clean, f'{type(ex).__name__}: {ex}'.replace(url, clean)
        ) from None
    return Location(fs, root, clean if carries else None)


DEFAULT_PORTS = {'ftp': 21, 'sftp': 22, 'http': 80, 'https': 443, 'webdav': 80, 'webdavs': 443}
"""URL schemes whose authority names a server, with the port it listens on
when the URL names none."""


SCHEME_ALIASES = {'local': 'file', 'dav': 'webdav', 'davs': 'webdavs', 'ssh': 'sftp'}
"""Schemes that name the same storage as another (fsspec's registry knows
the others' common classes: ``s3a`` is ``s3``)."""


def check_server(url: str) -> None:
    """Refuse a URL whose server (host and port) cannot be read: a port that
    is no number or out of range, an unclosed IPv6 bracket, a password whose
    '/', '?' or '#' is not percent-encoded (the rest would be read as the
    server and the path).

    Parameters
    ----------
    url: string
        A URL, possibly chained.

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        Naming the URL without its password.
    """
    for part in chain(url):
        if RAW_PASSWORD.match(part) and not USERINFO.match(part):
            raise InvalidConfigurationError(
                'volume URL', strip_credentials(url),
                "its password holds '/', '?' or '#': write them percent-encoded (%2F, %3F, %23)"
            )
        scheme = part.partition('://')[0].lower()
        if SCHEME_ALIASES.get(scheme, scheme) not in DEFAULT_PORTS:
            continue
        try:
            urlsplit(part).port  # noqa: B018 (reading the port checks it)
        except ValueError as ex:
            raise InvalidConfigurationError('volume URL', strip_credentials(url), str(ex)) from None


class Place(NamedTuple):
    """Where the files of a URL are kept, in a form in which two URLs of the
    same place are equal: the kind of storage (fsspec's class of the
    protocol: ``s3`` and ``s3a`` are one), the server (host and port, with the
    default port written out; '' where the protocol names none) and the
    path (dot segments and repeated slashes resolved, local links followed).
    """

    kind: str
    server: str
    path: str

    def holds(self, other: 'Place') -> bool:
        """Whether the other place is this one or lies below it."""
        return (self.kind, self.server) == (other.kind, other.server) and (
            is_below(other.path, self.path)
        )


def is_below(path: str, root: str) -> bool:
    """Whether a normalized '/'-separated path is the root or lies below it."""
    return path == root or path.startswith(root.rstrip('/') + '/')


def place(url: str) -> Place:
    """Get the place that holds the files of a URL or local path.

    A chained URL names the place of its last URL, the filesystem that holds
    the data (``simplecache::file:///w`` is ``/w`` on local disk); an archive
    in the chain adds its inner path (``zip://d::file:///a.zip`` is
    ``/a.zip/d``). Credentials, queries and fragments are left out; scheme
    and host compare without case.

    Parameters
    ----------
    url: string
        A URL (possibly chained) or a local path.

    Returns
    -------
    flowserv_fsspec.urls.Place
    """
    parts, at = chain_parts(strip_credentials(url))
    last = parts[-1]
    protocol, sep, rest = last.partition('://')
    if not sep:
        protocol, rest = 'file', last
    protocol = SCHEME_ALIASES.get(protocol.lower(), protocol.lower())
    server = ''
    if protocol in DEFAULT_PORTS:
        split = urlsplit(f'{protocol}://{rest}')
        try:
            port = str(split.port or DEFAULT_PORTS[protocol])
        except ValueError:  # not a port: compared as written
            port = split.netloc.rpartition(':')[2]
        server, rest = f'{(split.hostname or "").lower()}:{port}', split.path
    else:
        rest = rest.partition('?')[0].partition('#')[0]
    if at < len(parts) - 1:  # an archive: the path inside it
        rest += '/' + parts[at].partition('://')[2]
    path = posixpath.normpath('/' + re.sub('/+', '/', rest)).replace('//', '/')
    if protocol == 'file':
        path = os.path.realpath(path)
    implementation = known_implementations.get(protocol, {})
    return Place(implementation.get('class', protocol), server, path)


def holds_working_folder(url: str) -> bool:
    """Whether a URL names the folder the process works in, or one that holds it.

    Parameters
    ----------
    url: string
        A URL or local path.

    Returns
    -------
    bool
    """
    return place(url).holds(place(os.getcwd()))
