"""How a volume travels to the workers of a cluster: its document
(``to_dict()``, which holds no secrets), the storage options that hold none
(``timeout``, ``endpoint_url``, ...) and, only where the caller asks for it,
the options that hold credentials, wrapped so that no task key, dashboard,
log line or error shows them.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, NamedTuple, Optional

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.errors import InvalidConfigurationError


SECRET_WORDS = ('key', 'secret', 'token', 'password', 'passphrase', 'credential', 'auth',
                'sas', 'connection_string', 'private')
"""Parts of the names of storage options that hold credentials (s3fs's
``key``/``secret``/``token``, gcsfs's ``token``, adlfs's ``account_key``,
``sas_token`` and ``connection_string``, paramiko's ``password``/``pkey``):
such an option, or a dictionary option that holds one at any depth
(``client_kwargs``), is a secret."""


class Secrets:
    """Storage options that hold credentials, as they travel to workers:
    pickled with their values (a worker needs them), shown by their names
    only (Dask writes a failed task's arguments to its logs).
    """

    __slots__ = ('_values',)

    def __init__(self, values: Mapping[str, Any]):
        """Initialize with the options.

        Parameters
        ----------
        values: dict
            Storage options by name.
        """
        self._values = dict(values)

    def values(self) -> Dict[str, Any]:
        """Get the options by name.

        Returns
        -------
        dict
        """
        return dict(self._values)

    def __reduce__(self) -> Any:
        return Secrets, (self._values,)

    def __repr__(self) -> str:
        return f'<secrets: {", ".join(sorted(self._values)) or "none"}>'


class Travelling(NamedTuple):
    """A volume on its way to a worker (the arguments of a task)."""

    doc: Dict[str, Any]
    """The volume's document."""
    options: Dict[str, Any]
    """Storage options without credentials."""
    secrets: Secrets
    """Storage options with credentials (none unless the caller sent them)."""


def travelling(
    volume: StorageVolume, options: Optional[Mapping[str, Any]] = None,
    send_secrets: bool = False
) -> Travelling:
    """Get what a worker needs to rebuild a volume (see the module).

    Parameters
    ----------
    volume: flowserv_fsspec.base.StorageVolume
        The volume.
    options: dict, default=None
        Storage options that the workers use to rebuild it.
    send_secrets: bool, default=False
        Send the options that hold credentials too (by default they are
        refused: each worker takes credentials from its own environment).

    Returns
    -------
    flowserv_fsspec.cluster.travel.Travelling

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
        Options that hold credentials, not asked to be sent (the message
        names them, never their values).
    """
    options = dict(options or {})
    secret = {name: value for name, value in options.items() if is_secret(name, value)}
    if secret and not send_secrets:
        raise InvalidConfigurationError(
            'storage options for workers', sorted(secret),
            'they hold credentials: give the workers their own (their environment), '
            'or send them explicitly (send_secrets=True)'
        )
    plain = {name: value for name, value in options.items() if name not in secret}
    return Travelling(volume.to_dict(), plain, Secrets(secret))


def is_secret(name: str, value: Any) -> bool:
    """Whether a storage option holds credentials (see SECRET_WORDS).

    Parameters
    ----------
    name: string
        The option's name.
    value: any
        Its value.

    Returns
    -------
    bool
    """
    if any(word in name.lower() for word in SECRET_WORDS):
        return True
    return isinstance(value, Mapping) and any(is_secret(str(k), v) for k, v in value.items())


def arrived(volume: Travelling) -> StorageVolume:
    """Rebuild a volume on a worker.

    Parameters
    ----------
    volume: flowserv_fsspec.cluster.travel.Travelling

    Returns
    -------
    flowserv_fsspec.base.StorageVolume
    """
    from flowserv_fsspec.registry import Volume
    return Volume(volume.doc, **volume.options, **volume.secrets.values())
