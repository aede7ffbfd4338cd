"""Copying files between two storage volumes.

``copy_files`` works for any pair of volumes that follow the contract
(``walk``, ``store``, ``describe``), ours or flowserv's own: it lists the
source once and streams each file into the target with ``store()``.
"""

from typing import List, Optional, Union

from flowserv_fsspec.base import StorageVolume
from flowserv_fsspec.keys import join_key


def copy_files(
    src: Union[str, List[str], None], source: StorageVolume, dst: Optional[str],
    target: StorageVolume, verbose: bool = False
) -> List[str]:
    """Copy files and folders at the source path (path) of a given source
    storage volume to the destination path (path) of a target storage volume.

    A single file is copied to ``dst`` (or to its own key when ``dst`` is
    None). The files of a folder keep their path below that folder and are
    placed below ``dst`` (or below the target's root when ``dst`` is None).
    None or '' copies the whole source volume.

    Parameters
    ----------
    src: str or list of string
        Path specifying the source file(s) or folder(s).
    source: flowserv_fsspec.base.StorageVolume
        Storage volume for source files.
    dst: string
        Destination path for copied files.
    target: flowserv_fsspec.base.StorageVolume
        Storage volume for destination files.
    verbose: bool, default=False
        Print information about source and target volume and the files that are
        being copied.

    Returns
    -------
    list of string
        The destination keys, in the order the files were copied.
    """
    if verbose:
        print(f'Copy files from {source.describe()} to {target.describe()}')
    copied = list()
    for path in src if isinstance(src, list) else [src]:
        files = source.walk(src=path)
        if len(files) == 1 and files[0][0] == path:
            pairs = [(path, files[0][1], dst if dst is not None else path)]
        else:
            prefix = path.rstrip('/') + '/' if path else ''
            pairs = [(key, file, join_key(dst, key[len(prefix):])) for key, file in files]
        for key, file, dstkey in pairs:
            target.store(file=file, dst=dstkey)
            copied.append(dstkey)
            if verbose:
                print(f'copied {key} to {dstkey}')
    return copied
