"""Translation of backend exceptions into the typed errors of
:mod:`flowserv_fsspec.errors`: the one place where fsspec's and the client
packages' exceptions enter the library.
"""

import asyncio
from contextlib import contextmanager
from typing import Iterator, Optional, Type

from flowserv_fsspec.errors import (
    AccessDeniedError,
    StorageError,
    UnknownFileError,
    UnsupportedOperationError,
    VolumeError,
    VolumeNotFoundError,
)


PROGRAMMING_ERRORS = (
    TypeError, AttributeError, KeyError, IndexError, LookupError, NameError, UnboundLocalError,
    AssertionError, ZeroDivisionError, RecursionError,
)
"""Python's own errors of code that is wrong, never of storage: they pass
every translation unchanged (subclasses that client packages raise, such as
botocore's, are translated)."""


@contextmanager
def translate_errors(
    key: str, volume: str, missing: Type[VolumeError] = UnknownFileError
) -> Iterator[None]:
    """Translate backend exceptions raised inside the block into typed errors.

    This is the one place where fsspec/backend exceptions enter the library.

    Parameters
    ----------
    key: string
        Key being accessed (named in the error message).
    volume: string
        Description of the volume (named in the error message).
    missing: type, default=UnknownFileError
        Error for ``FileNotFoundError``: a missing file when reading, a missing
        container (:class:`VolumeNotFoundError`) when writing or listing.

    Raises
    ------
    flowserv_fsspec.errors.VolumeError
    """
    try:
        yield
    except Exception as ex:
        error = typed_error(ex, key, volume, missing)
        if error is ex:
            raise
        raise error from ex


def typed_error(
    ex: BaseException, key: str, volume: str, missing: Type[VolumeError] = UnknownFileError
) -> BaseException:
    """Get the typed error for a backend exception (see :func:`translate_errors`).

    Errors of the library and programming errors (Python's own ``TypeError``,
    ``AttributeError``, ``LookupError``, ... whatever their cause) are
    returned unchanged.
    """
    if isinstance(ex, VolumeError) or type(ex) in PROGRAMMING_ERRORS:
        return ex
    if isinstance(ex, NotImplementedError):
        return UnsupportedOperationError(key, volume)
    status = http_status(ex)
    # A path through a file (NotADirectoryError) names nothing when reading.
    through_file = isinstance(ex, NotADirectoryError) and missing is UnknownFileError
    # fsspec's HTTP filesystem reports a request that timed out or could not
    # connect as a missing file: the cause says what happened.
    cause = ex.__cause__
    unreachable = isinstance(ex, FileNotFoundError) and isinstance(cause, OSError) and not (
        isinstance(cause, FileNotFoundError)
    )
    if isinstance(cause, (TimeoutError, asyncio.TimeoutError)) or unreachable:
        return StorageError(key, volume, cause)  # type: ignore[arg-type]
    if isinstance(ex, FileNotFoundError) or status == 404 or through_file:
        if missing is VolumeNotFoundError:
            return VolumeNotFoundError(volume, key)
        return UnknownFileError(key, volume)
    if isinstance(ex, PermissionError) or status in (401, 403):
        return AccessDeniedError(key, volume, reason(ex))
    # Client libraries raise their own types (httpx, botocore, azure, asyncssh).
    if isinstance(ex, OSError) or status is not None or type(ex).__module__ != 'builtins':
        return StorageError(key, volume, ex)
    return ex


def reason(ex: BaseException) -> str:
    """Give the backend's reason for a refusal, in one line: the error code of an
    S3 answer (``InvalidAccessKeyId``, ``SignatureDoesNotMatch``,
    ``AccessDenied``) and its message, else the exception's text.
    """
    answer = getattr(ex.__cause__, 'response', None)
    error = answer.get('Error', {}) if isinstance(answer, dict) else {}
    text = ': '.join(str(part) for part in (error.get('Code'), error.get('Message')) if part)
    return ' '.join((text or str(ex) or type(ex).__name__).split())


def http_status(ex: BaseException) -> Optional[int]:
    """HTTP status of a backend error that is no OSError (azure.core's errors
    carry ``status_code``; adlfs wraps them in a RuntimeError), else None.
    """
    current: Optional[BaseException] = ex
    for _ in range(8):  # a short walk down the chain of causes
        if current is None:
            break
        status = getattr(current, 'status_code', None)
        if isinstance(status, int):
            return status
        current = current.__cause__ or current.__context__
    return None
