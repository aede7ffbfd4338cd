"""Locations: the strings that name a volume, or a file or folder in one.

A location is a URL (``s3://bucket/runs/r1``, ``memory://runs``), a local
path (relative paths are made absolute), or ``@doc.json`` (a file holding a
flowserv volume document), optionally followed by ``:key/inside``
(``@doc.json:runs/r1``). The command line takes locations; so can any
program that lets its users name volumes by a string.
"""

import json
import os
from typing import Any, Tuple

import fsspec

from flowserv_fsspec.backends.local import LOCAL_PROTOCOLS
from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.errors import InvalidConfigurationError
from flowserv_fsspec.registry import Volume, from_url
from flowserv_fsspec.urls import split_url


def read_document(location: str) -> Tuple[StorageVolume, str]:
    """Read ``@file.json[:key]``: the document's volume and the key inside it.

    Parameters
    ----------
    location: string
        ``@`` followed by the name of a JSON file, optionally ``:key``.

    Returns
    -------
    tuple of (flowserv_fsspec.base.StorageVolume, string)

    Raises
    ------
    flowserv_fsspec.errors.InvalidConfigurationError
    """
    filename, _, key = location[1:].partition(':')
    try:
        with open(filename, 'rb') as f:
            doc = json.load(f)
    except (OSError, ValueError, RecursionError) as ex:
        raise InvalidConfigurationError('volume document file', filename, str(ex)) from None
    return Volume(doc), key.strip('/')


def below(volume: StorageVolume, folder: str) -> StorageVolume:
    """Get the volume of a folder of a volume ('' is the volume itself)."""
    return volume.get_store_for_folder(folder) if folder else volume


def open_location(location: str, **storage_options: Any) -> StorageVolume:
    """Get the volume whose root is a location.

    Parameters
    ----------
    location: string
        URL, local path or ``@file.json[:key]``.
    storage_options: dict
        Options for the filesystem of a remote URL (e.g. ``timeout``); local
        paths and documents take none.

    Returns
    -------
    flowserv_fsspec.base.StorageVolume

    Raises
    ------
    flowserv_fsspec.errors.VolumeError
    """
    if location.startswith('@'):
        return below(*read_document(location))
    if not is_remote(location):
        return from_url(os.path.abspath(fsspec.core.split_protocol(location)[1]))
    return from_url(location, **storage_options)


def is_remote(location: str) -> bool:
    """Whether a location is a URL (not a local path or a document): the
    locations that take storage options.
    """
    return not location.startswith('@') and (
        fsspec.core.split_protocol(location)[0] not in LOCAL_PROTOCOLS)


def split_location(location: str, **storage_options: Any) -> Tuple[StorageVolume, str]:
    """Split a location into the volume of its parent folder and the last key.

    A location with a single path segment (``s3://bucket``, ``memory://runs``)
    or a document without key names a volume root and gives the key ''.

    Parameters
    ----------
    location: string
        URL, local path or ``@file.json[:key]``.
    storage_options: dict
        Options for the filesystem of a remote URL (see :func:`open_location`).

    Returns
    -------
    tuple of (flowserv_fsspec.base.StorageVolume, string)

    Raises
    ------
    flowserv_fsspec.errors.VolumeError
    """
    if location.startswith('@'):
        volume, key = read_document(location)
        parent, _, name = key.rpartition('/')
        return below(volume, parent), name
    protocol, path = fsspec.core.split_protocol(location)
    if protocol in LOCAL_PROTOCOLS:
        path = os.path.abspath(path)
        parent, _, name = path.rpartition('/')
        return from_url(parent or '/'), name
    parent, name = split_url(location)
    return from_url(parent, **storage_options), name
