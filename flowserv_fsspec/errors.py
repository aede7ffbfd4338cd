"""Typed errors of flowserv_fsspec.

Every error names what failed: the key, the URL, the document type or the
volume. Backend exceptions (``FileNotFoundError``, ``PermissionError``, other
``OSError``) are translated into these once, where they enter the library
(:func:`flowserv_fsspec.translate.translate_errors`), so callers only need to
catch :class:`VolumeError`.

Messages never contain credentials: they name keys and volume descriptions,
both of which are free of secrets by construction.

Where flowserv-core is installed, each error is also an instance of its
counterpart in ``flowserv.error`` (so flowserv's own ``except`` clauses and
its API's error responses work unchanged):

================================  ============================================
flowserv_fsspec.errors            flowserv.error
================================  ============================================
``VolumeError`` (all of these)    ``FlowservError``
``UnknownFileError``              ``UnknownFileError``
``VolumeNotFoundError``           ``UnknownObjectError``
``InvalidKeyError``               ``InvalidArgumentError``
``AccessDeniedError``             ``UnauthorizedAccessError``
``InvalidConfigurationError``     ``InvalidConfigurationError``
``UnsafeOperationError``          ``ConstraintViolationError``
================================  ============================================

Without flowserv-core the classes derive from Python's exceptions only, and
nothing imports flowserv.
"""

import pickle
from typing import Any, Dict, List, Optional, Tuple, Type


def flowserv_error(name: str) -> Tuple[type, ...]:
    """Get flowserv-core's error class of a name as a tuple of bases: empty
    where flowserv-core cannot be imported (not installed, or a folder
    named ``flowserv`` that is no package, such as a test folder on the path).

    Parameters
    ----------
    name: string
        Class name in ``flowserv.error``.

    Returns
    -------
    tuple of type
    """
    try:
        import flowserv.error
    except ImportError:
        return ()
    return (getattr(flowserv.error, name),)


def rebuild(
    cls: Type[BaseException], message: str, state: Dict[str, Any]
) -> BaseException:
    """Build an unpickled error again: its class, message and attributes,
    without calling its ``__init__`` (whose arguments differ by class).
    """
    error: BaseException = cls.__new__(cls)
    error.args = (message,)
    error.__dict__.update(state)
    return error


def picklable(value: Any) -> Any:
    """Give a value that pickles: the value itself, or its repr."""
    try:
        pickle.dumps(value)
    except Exception:
        return repr(value)
    return value


class VolumeError(*(flowserv_error('FlowservError') or (Exception,))):  # type: ignore[misc]
    """Base class of every error raised by flowserv_fsspec."""

    def __init__(self, message: str):
        """Initialize the error message.

        Parameters
        ----------
        message: string
            What failed, naming the key, URL or volume.
        """
        super().__init__(message)
        self.args = (message,)
        self.message = message  # flowserv's errors print this

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle the class, the message and the attributes (``key``,
        ``done``, ...): errors cross processes (multiprocessing, dask,
        flowserv's workers) as they were raised.
        """
        state = {name: picklable(value) for name, value in vars(self).items()}
        return rebuild, (type(self), self.message, state)


class InvalidKeyError(VolumeError, ValueError, *flowserv_error('InvalidArgumentError')):  # type: ignore[misc]
    """A key that is not a safe, relative, '/'-separated path.

    Raised before any I/O for keys that are empty where a file is meant,
    absolute, contain ``..``/``.`` segments, backslashes or control
    characters.
    """

    def __init__(self, key: object, reason: str):
        """Initialize the error message.

        Parameters
        ----------
        key: object
            The rejected key (as given by the caller).
        reason: string
            Why the key was rejected.
        """
        self.key = key
        self.reason = reason
        super().__init__(f'invalid key {key!r}: {reason}')


class UnknownFileError(VolumeError, FileNotFoundError, *flowserv_error('UnknownFileError')):  # type: ignore[misc]
    """A key that does not name an existing file of the volume."""

    def __init__(self, key: str, volume: Optional[str] = None):
        """Initialize the error message.

        Parameters
        ----------
        key: string
            Key of the missing file, relative to the volume root.
        volume: string, default=None
            Description of the volume that was searched.
        """
        self.key = key
        self.volume = volume
        where = f' in {volume}' if volume else ''
        super().__init__(f'unknown file {key!r}{where}')


class VolumeNotFoundError(VolumeError, FileNotFoundError, *flowserv_error('UnknownObjectError')):  # type: ignore[misc]
    """The volume's container (bucket, share, base folder) does not exist.

    Volumes never create buckets implicitly: a misspelt bucket name fails with
    this error instead of creating a new bucket.
    """

    def __init__(self, volume: str, key: Optional[str] = None):
        """Initialize the error message.

        Parameters
        ----------
        volume: string
            Description of the volume whose container is missing.
        key: string, default=None
            Key that was being accessed.
        """
        self.volume = volume
        self.key = key
        what = f' (while accessing {key!r})' if key is not None else ''
        super().__init__(f'storage volume not found: {volume}{what}')


def named(key: str) -> str:
    """Name a key in a message: quoted, or 'the volume root' for ''."""
    return repr(key) if key else 'the volume root'


class AccessDeniedError(VolumeError, PermissionError, *flowserv_error('UnauthorizedAccessError')):  # type: ignore[misc]
    """The backend refused access to a key."""

    def __init__(self, key: str, volume: str, reason: Optional[str] = None):
        """Initialize the error message.

        Parameters
        ----------
        key: string
            Key that could not be accessed.
        volume: string
            Description of the volume.
        reason: string, default=None
            The backend's reason (e.g. ``InvalidAccessKeyId: ...``).
        """
        self.key = key
        self.volume = volume
        because = f' ({reason})' if reason else ''
        super().__init__(f'access denied to {named(key)} in {volume}{because}')


class UntrustedHostError(AccessDeniedError):
    """A server whose host key is unknown or has changed: the connection was
    refused before any credential was sent.
    """

    def __init__(self, server: str, reason: str, how: str):
        """Initialize the error message.

        Parameters
        ----------
        server: string
            The server (``host:port``).
        reason: string
            What the client found (unknown key, changed key).
        how: string
            How to trust the key.
        """
        self.server = server
        VolumeError.__init__(self, f'host key of {server} is not trusted ({reason}): {how}')


class StorageError(VolumeError, OSError):
    """Any other failure of the storage backend while accessing a key."""

    def __init__(self, key: str, volume: str, cause: BaseException):
        """Initialize the error message.

        Parameters
        ----------
        key: string
            Key that was being accessed.
        volume: string
            Description of the volume.
        cause: Exception
            The backend's exception (kept as ``__cause__`` too).
        """
        self.key = key
        self.volume = volume
        super().__init__(
            f'storage error on {named(key)} in {volume}: {type(cause).__name__}: {cause}'
        )


class UnsupportedOperationError(VolumeError, NotImplementedError):
    """The filesystem cannot do what was asked (e.g. write to a read-only one)."""

    def __init__(self, key: str, volume: str):
        """Initialize the error message.

        Parameters
        ----------
        key: string
            Key that was being accessed.
        volume: string
            Description of the volume.
        """
        self.key = key
        self.volume = volume
        super().__init__(
            f'operation on {named(key)} not supported by {volume} (read-only filesystem?)'
        )


FLOWSERV_CONFIG_ERROR = flowserv_error('InvalidConfigurationError')


class InvalidConfigurationError(VolumeError, ValueError, *FLOWSERV_CONFIG_ERROR):  # type: ignore[misc]
    """A volume URL, document or option that cannot be used."""

    def __init__(self, what: str, value: object, reason: str):
        """Initialize the error message.

        Parameters
        ----------
        what: string
            Name of the configured thing (e.g. 'volume URL', 'document type').
        value: object
            The rejected value.
        reason: string
            Why it was rejected.
        """
        self.what = what
        self.value = value
        super().__init__(f'invalid {what} {value!r}: {reason}')


class MissingExtraError(InvalidConfigurationError):
    """A backend whose Python package is not installed."""

    def __init__(self, backend: str, module: str, extra: str):
        """Initialize the error message.

        Parameters
        ----------
        backend: string
            Name of the backend (e.g. 'gs://').
        module: string
            The missing Python module.
        extra: string
            Name of the package extra that installs it.
        """
        self.extra = extra
        super().__init__(
            'backend', backend,
            f"needs the {module!r} package: pip install 'flowserv-fsspec[{extra}]'"
        )


class UnsafeOperationError(VolumeError, *flowserv_error('ConstraintViolationError')):  # type: ignore[misc]
    """An operation refused before any write because it would lose data: a
    sync that would empty its target, two sources for one destination key,
    a source and a target that overlap.
    """

    def __init__(self, what: str, reason: str):
        """Initialize the error message.

        Parameters
        ----------
        what: string
            The refused operation, naming its locations or keys.
        reason: string
            Why it was refused, and how to ask for it explicitly if that is
            possible.
        """
        self.what = what
        self.reason = reason
        super().__init__(f'refused {what}: {reason}')


class TransferError(VolumeError):
    """A copy between volumes that stopped part way.

    ``done`` lists the destination keys that were copied (each one complete),
    ``pending`` those that were not; running the same copy again completes it.
    """

    def __init__(
        self, key: str, source: str, target: str, done: List[str], pending: List[str],
        cause: BaseException
    ):
        """Initialize the error message.

        Parameters
        ----------
        key: string
            Key (source or destination) whose copy failed first.
        source: string
            Description of the source volume.
        target: string
            Description of the target volume.
        done: list of string
            Destination keys that were copied.
        pending: list of string
            Destination keys that were not copied.
        cause: Exception
            The error that stopped the copy (kept as ``__cause__`` too).
        """
        self.key = key
        self.done = done
        self.pending = pending
        shown = ', '.join(repr(k) for k in pending[:3]) + (', ...' if len(pending) > 3 else '')
        super().__init__(
            f'copy from {source} to {target} failed at {key!r}: {len(done)} of '
            f'{len(done) + len(pending)} files copied, not copied: {shown} ({cause})'
        )
