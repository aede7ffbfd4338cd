"""Volumes on SFTP servers through sshfs/asyncssh (extra ``sftp``).

Credentials are never in the document: keys come from the SSH agent, from
``~/.ssh`` and the SSH client configuration, or from ``storage_options``
(``client_keys``, ``password``, ``username``, ``known_hosts``). Host keys are
checked against ``~/.ssh/known_hosts`` unless told otherwise.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import unquote

import fsspec
from fsspec import AbstractFileSystem

from flowserv_fsspec.backends import check_options, import_backend, timeout_option
from flowserv_fsspec.concurrency import run_each
from flowserv_fsspec.documents import make_doc, read_args
from flowserv_fsspec.errors import (
    InvalidConfigurationError,
    StorageError,
    UntrustedHostError,
    VolumeNotFoundError,
)
from flowserv_fsspec.files import FsspecFile
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.volume import FsspecVolume
from flowserv_fsspec.writes import FolderWrites, Outcomes


SFTP_STORE = 'sftp'
"""Type identifier for storage volume serializations."""


def Sftp(
    remotedir: str, hostname: str, port: Optional[int] = None,
    timeout: Optional[float] = None, look_for_keys: Optional[bool] = False,
    sep: Optional[str] = '/', identifier: Optional[str] = None
) -> Dict[str, Any]:
    """Get configuration object for a remote server storage volume that is
    accessed via sftp.

    Parameters
    ----------
    remotedir: string
        Base directory for stored files on the remote server.
    hostname: string
        Server to connect to.
    port: int, default=None
        Server port to connect to.
    timeout: float, default=None
        Optional timeout (in seconds) for the TCP connect.
    look_for_keys: bool, default=False
        Set to True to enable searching for discoverable private key files
        in ``~/.ssh/``.
    sep: string, default='/'
        Path separator used by the remote file system.
    identifier: string, default=None
        Unique storage volume identifier.

    Returns
    -------
    dict
    """
    return make_doc(
        SFTP_STORE, identifier, basedir=remotedir, hostname=hostname, port=port,
        timeout=timeout, look_for_keys=look_for_keys, sep=sep
    )


class SftpWrites(FolderWrites):
    """Folder writes whose copies pass through the client."""

    def copy_many(self, files: List[FsspecFile], keys: List[str], paths: List[str]) -> Outcomes:
        """Copy by streaming each file down and up again, like ``store()``:
        SFTP has no copy request, and sshfs's ``cp_file`` runs ``cp`` in a
        shell session, which SFTP-only servers refuse.
        """
        return run_each(self, [('put', item) for item in zip(files, keys, paths)])


class SftpVolume(FsspecVolume):
    """Storage volume for the files below a folder of an SFTP server."""

    writes_class = SftpWrites

    def __init__(
        self, remotedir: str, hostname: str, port: Optional[int] = None,
        timeout: Optional[float] = None, look_for_keys: Optional[bool] = False,
        sep: Optional[str] = '/', identifier: Optional[str] = None,
        *, storage_options: Optional[Dict[str, Any]] = None,
        fs: Optional[AbstractFileSystem] = None
    ):
        """Initialize the connection settings and the remote base directory.

        Parameters
        ----------
        remotedir: string
            Base directory for stored files on the remote server.
        hostname: string
            Server to connect to.
        port: int, default=None
            Server port to connect to (22 when None).
        timeout: float, default=None
            Optional timeout (in seconds) for the TCP connect.
        look_for_keys: bool, default=False
            Kept for flowserv documents. asyncssh always offers the agent's
            keys and the default key files of ``~/.ssh``.
        sep: string, default='/'
            Kept for flowserv documents; SFTP paths are always '/'-separated.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict, default=None
            Options for ``sshfs.SSHFileSystem`` / ``asyncssh.connect``; never
            serialized.
        fs: sshfs.SSHFileSystem, default=None
            A ready filesystem to use instead of building one.
        """
        if not hostname or not isinstance(hostname, str):
            raise InvalidConfigurationError('SFTP host', hostname, 'expected a host name')
        if not remotedir or not isinstance(remotedir, str):
            raise InvalidConfigurationError('SFTP base directory', remotedir, 'expected a path')
        if port is not None and not (
            isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536
        ):
            raise InvalidConfigurationError('SFTP port', port, 'expected 1 to 65535')
        self.remotedir = remotedir
        self.hostname = hostname
        self.port = port
        self.timeout = timeout
        self.look_for_keys = look_for_keys
        self.sep = sep
        if fs is None:
            fs = self._connect(dict(storage_options or {}))
        super().__init__(fs, root=remotedir, identifier=identifier)

    def _connect(self, options: Dict[str, Any]) -> AbstractFileSystem:
        """Connect an ``sshfs.SSHFileSystem`` (sshfs connects when built: a
        refused login or an unreachable host fails here; a cached filesystem
        whose connection was lost is replaced). The server's host
        key must be in ``~/.ssh/known_hosts`` (asyncssh's default, which
        sshfs turns off) unless the option ``known_hosts`` says otherwise
        (a file, keys, or None to trust any key).
        """
        sshfs = import_backend('sshfs', 'sftp://', 'sftp')
        asyncssh = import_backend('asyncssh', 'sftp://', 'sftp')
        if self.timeout is not None:
            options.setdefault('timeout', self.timeout)
        # The connect, the SSH handshake and the login within the timeout.
        options.setdefault('connect_timeout', timeout_option(options))
        options.setdefault('known_hosts', ())  # () is asyncssh's default: ~/.ssh/known_hosts
        check_options(
            'SFTP', options, sshfs.SSHFileSystem.__init__, asyncssh.connect,
            asyncssh.SSHClientConnectionOptions.prepare, extra=['max_sessions']
        )
        server = f'{self.hostname}:{self.port or 22}'
        try:
            where = f'SFTP folder {self._url(self.remotedir)}'
            with translate_errors('', where, missing=VolumeNotFoundError):
                fs = sshfs.SSHFileSystem(self.hostname, port=self.port or 22, **options)
                if fs.client.is_closed():  # fsspec's cached instance, its connection lost
                    sshfs.SSHFileSystem.clear_instance_cache()
                    fs = sshfs.SSHFileSystem(self.hostname, port=self.port or 22, **options)
                return fs
        except StorageError as ex:
            if not isinstance(ex.__cause__, asyncssh.HostKeyNotVerifiable):
                raise
            raise UntrustedHostError(server, str(ex.__cause__), (
                f'check its fingerprint, then add it to ~/.ssh/known_hosts (ssh-keyscan -p '
                f'{self.port or 22} {self.hostname} >> ~/.ssh/known_hosts), or name the file '
                'or keys to trust with the storage option known_hosts'
            )) from None

    @property
    def url(self) -> str:
        """URL of the volume root: ``sftp://host[:port]/path`` (no user name)."""
        return self._url(self.root)

    def _url(self, root: str) -> str:
        port = f':{self.port}' if self.port else ''
        return f'sftp://{self.hostname}{port}/{root.lstrip("/")}'

    def describe(self) -> str:
        """Get short descriptive string about the storage volume for display
        purposes.

        Returns
        -------
        str
        """
        return f'SFTP folder {self.url}'

    @classmethod
    def from_dict(cls, doc: Dict[str, Any], **storage_options: Any) -> SftpVolume:
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
        flowserv_fsspec.backends.sftp.SftpVolume
        """
        args = read_args(doc, SFTP_STORE, required=('basedir', 'hostname'), types={
            'port': (int,), 'timeout': (int, float), 'look_for_keys': (bool,), 'sep': (str,)
        })
        return cls(
            args['basedir'], args['hostname'], port=args.get('port'),
            timeout=args.get('timeout'), look_for_keys=args.get('look_for_keys', False),
            sep=args.get('sep', '/'), identifier=doc.get('id'), storage_options=storage_options
        )

    @classmethod
    def from_url(
        cls, url: str, identifier: Optional[str] = None, **storage_options: Any
    ) -> SftpVolume:
        """Get a volume for ``sftp://[user@]host[:port]/path``.

        Parameters
        ----------
        url: string
            SFTP URL of the base directory.
        identifier: string, default=None
            Unique volume identifier.
        storage_options: dict
            Options for ``sshfs.SSHFileSystem`` (never serialized).

        Returns
        -------
        flowserv_fsspec.backends.sftp.SftpVolume
        """
        parts = fsspec.utils.infer_storage_options(url)
        for option in ('username', 'password'):
            if parts.get(option):
                storage_options.setdefault(option, unquote(parts[option]))
        return cls(
            parts['path'] or '/', parts.get('host', ''), port=parts.get('port'),
            identifier=identifier, storage_options=storage_options
        )

    def _folder_volume(self, key: str, path: str, identifier: Optional[str]) -> SftpVolume:
        return SftpVolume(
            path, self.hostname, port=self.port, timeout=self.timeout,
            look_for_keys=self.look_for_keys, sep=self.sep, identifier=identifier, fs=self.fs
        )

    def to_dict(self) -> Dict[str, Any]:
        """Get dictionary serialization for the storage volume.

        Returns
        -------
        dict
        """
        return Sftp(
            self.remotedir, self.hostname, port=self.port, timeout=self.timeout,
            look_for_keys=self.look_for_keys, sep=self.sep, identifier=self.identifier
        )


def RemoteStorage(client: Any, remotedir: str, identifier: Optional[str] = None) -> SftpVolume:
    """Get the SFTP volume for a folder of the server that a flowserv
    ``SSHClient`` connects to (flowserv's ``RemoteStorage`` signature).

    The volume opens its own SFTP connection (asyncssh) with the client's host,
    port, timeout and key settings; flowserv's paramiko client is not used.

    Parameters
    ----------
    client: flowserv.util.ssh.SSHClient
        flowserv's SSH client (anything with ``hostname``, ``port``,
        ``timeout``, ``look_for_keys`` and ``sep``).
    remotedir: string
        Base directory for stored files on the remote server.
    identifier: string, default=None
        Unique volume identifier.

    Returns
    -------
    flowserv_fsspec.backends.sftp.SftpVolume

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    if not isinstance(getattr(client, 'hostname', None), str):
        raise InvalidConfigurationError(
            'SSH client', type(client).__name__,
            'expected flowserv.util.ssh.SSHClient (or use SftpVolume(remotedir, hostname, ...))'
        )
    return SftpVolume(
        remotedir, client.hostname, port=client.port, timeout=client.timeout,
        look_for_keys=client.look_for_keys, sep=client.sep, identifier=identifier
    )
