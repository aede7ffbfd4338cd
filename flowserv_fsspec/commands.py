"""The commands of the ``flowserv-fsspec`` command line (see
:mod:`flowserv_fsspec.cli`): each takes the parsed arguments, prints its
result and gives the exit code. Names of files are printed as ``ls -b``
does: backslashes and characters that are not printable (a newline, an
escape sequence) are written as escapes, so one line is one name and nothing
reaches the terminal as a control sequence.
"""

import argparse
import importlib
import itertools
import json
import sys
from typing import Any, Dict, Iterable, Iterator, List, Optional, TextIO, Tuple

from fsspec.callbacks import Callback, TqdmCallback

from flowserv_fsspec.base import StorageVolume, copy_planned, ends
from flowserv_fsspec.cleanup import cleanup
from flowserv_fsspec.errors import InvalidConfigurationError, UnknownFileError, VolumeError
from flowserv_fsspec.handles import IOHandle, copy_into
from flowserv_fsspec.locations import is_remote, open_location, split_location
from flowserv_fsspec.plan import checked, destinations
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.urls import shown_url


Files = List[Tuple[str, IOHandle]]


class Refused(Exception):
    """A command that would do something the user did not ask for clearly."""


# -- Locations -------------------------------------------------------------------

def options(args: argparse.Namespace) -> Dict[str, Any]:
    """Storage options for remote locations from the command line (``--timeout``)."""
    return {'timeout': args.timeout} if args.timeout is not None else {}


def travelling_options(args: argparse.Namespace) -> Dict[str, Any]:
    """Storage options for the workers of a cluster to rebuild the source and
    destination with (``--timeout``, for remote locations only).
    """
    return {f'{end}_options': options(args) if is_remote(location) else {}
            for end, location in (('source', args.src), ('target', args.dst))}


def stream_location(
    args: argparse.Namespace, location: str
) -> Tuple[StorageVolume, str, Iterator[Tuple[str, IOHandle]]]:
    """Stream the files at a location in the order of their keys: its volume,
    key and files (``iter_walk``).

    A key that names nothing is an error (``UnknownFileError``); an empty
    folder or volume root is not.
    """
    volume, key = split_location(location, **options(args))
    files = volume.iter_walk(key)
    first = next(files, None)
    if first is None:
        if key and volume.key_type(key) != 'folder':
            raise UnknownFileError(key, volume.describe())
        return volume, key, iter(())
    return volume, key, itertools.chain([first], files)


def is_file(files: Files, key: str) -> bool:
    """Whether a walk's first two files (or all) name the single file ``key``."""
    return bool(key) and len(files) == 1 and files[0][0] == key


def relative(
    files: Iterable[Tuple[str, IOHandle]], key: str
) -> Iterator[Tuple[str, IOHandle]]:
    """Give walked files keys relative to the walked folder; the file at the
    key itself (a file, or on object stores a file beside a folder of the same
    name) keeps its name.
    """
    for filekey, handle in files:
        yield relative_name(filekey, key), handle


def relative_name(filekey: str, key: str) -> str:
    """Name a file found by walking ``key`` as seen from the walked location
    (see :func:`relative`).
    """
    return key.rpartition('/')[2] if filekey == key else filekey[len(key) + 1 if key else 0:]


def emit(args: argparse.Namespace, data: Any, lines: List[str]) -> None:
    """Print a result: as JSON with ``--json``, else as lines of text."""
    if getattr(args, 'json', False):
        print(json.dumps(data, indent=2))
    else:
        for line in lines:
            print(line)


def human(nbytes: int) -> str:
    """Format a byte count for people (1024-based)."""
    size, unit = float(nbytes), 'B'
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if size < 1024 or unit == 'TiB':
            break
        size /= 1024
    return f'{nbytes} B' if unit == 'B' else f'{size:.1f} {unit}'


def progress_bar(quiet: bool, stream: TextIO) -> Optional[Callback]:
    """Get a tqdm progress bar for a terminal (when tqdm is installed), else None."""
    if quiet or not stream.isatty():
        return None
    try:  # fsspec's TqdmCallback fails in __init__ without tqdm, then again in __del__
        importlib.import_module('tqdm')
    except ImportError:
        return None
    return TqdmCallback(tqdm_kwargs={'unit': 'B', 'unit_scale': True, 'file': stream})


# -- Commands --------------------------------------------------------------------

def cmd_ls(args: argparse.Namespace) -> int:
    """List a folder: its files and sub-folders (``-R``: every file below it),
    printed as the listing streams (``--json``: one array at the end).
    """
    _, key, files = stream_location(args, args.url)
    rows = ls_rows(relative(files, key), args.recursive, args.long or args.json)
    if args.json:
        emit(args, [
            {'key': name, 'type': 'folder' if folder else 'file', 'size': size}
            for name, size, folder in rows
        ], [])
        return 0
    for name, size, _ in rows:
        print(f'{size:>12}  {escaped(name)}' if args.long else escaped(name))
    return 0


def ls_rows(
    files: Iterable[Tuple[str, IOHandle]], recursive: bool, sizes: bool
) -> Iterator[Tuple[str, int, bool]]:
    """Give the rows of a listing: name, size (summed over a folder's files
    when ``sizes``) and whether it is a folder. Files come in key order, so a
    folder's files come one after the other and each row is given once.
    """
    def row_name(item: Tuple[str, IOHandle]) -> str:
        head, sep, _ = item[0].partition('/')
        return item[0] if recursive or not sep else head + '/'

    for name, group in itertools.groupby(files, key=row_name):
        size = sum(handle.size() for _, handle in group) if sizes else 0
        yield name, size, name.endswith('/')


ESCAPES = {'\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r'}
"""Characters written as C escapes by :func:`escaped`."""


def escaped(name: str) -> str:
    r"""Write a name as ``ls -b`` does: backslashes and characters that are
    not printable as escapes (``a\nb``, ``\033[31m``), so that one line is
    one name and no control sequence reaches the terminal.
    """
    if name.isprintable() and '\\' not in name:  # most names: nothing to escape
        return name
    return ''.join(
        ESCAPES.get(char) or (char if char.isprintable() else escape_code(char))
        for char in name
    )


def escape_code(char: str) -> str:
    r"""Write a character that is not printable: ``\033`` (octal) below 256,
    else ``\u200b`` or ``\U0001f600``.
    """
    code = ord(char)
    if code < 256:
        return f'\\{code:03o}'
    return f'\\u{code:04x}' if code < 65536 else f'\\U{code:08x}'



def cmd_cat(args: argparse.Namespace) -> int:
    """Write a file's bytes to standard output."""
    volume, key = split_location(args.url, **options(args))
    copy_into(volume.load(key), sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


def cmd_du(args: argparse.Namespace) -> int:
    """Count the files and bytes below a location."""
    _, _, files = stream_location(args, args.url)
    count = nbytes = 0
    for _, handle in files:
        count, nbytes = count + 1, nbytes + handle.size()
    emit(args, {'files': count, 'bytes': nbytes},
         [f'{count} files, {nbytes} bytes ({human(nbytes)})'])
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    """Print a volume's document as JSON (it holds no credentials)."""
    volume = open_location(args.url, **options(args))
    print(json.dumps(volume.to_dict(), indent=2))
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    """Delete a file, a folder (``-r``) or every file of a volume (``-r``,
    confirmed or ``--yes``).
    """
    volume, key, files = stream_location(args, args.url)
    first = list(itertools.islice(files, 2))
    if not is_file(first, key) and not args.recursive:
        raise Refused(f'{shown_url(args.url)} is a folder: use rm -r')
    # The keys are listed (to count or to show them) before anything goes:
    # only --json holds them.
    keys = [filekey for filekey, _ in itertools.chain(first, files)] if args.json else None
    count = len(keys) if keys is not None else len(first) + sum(1 for _ in files)
    if not key:
        if not args.yes and not confirm(f'Delete all {count} files of {volume.describe()}?'):
            raise Refused(f'{shown_url(args.url)}: not confirmed, nothing deleted')
        volume.erase()
    else:
        volume.delete(key)
    emit(args, {'deleted': keys}, [] if args.quiet else [f'deleted {count} file(s)'])
    return 0


def confirm(question: str) -> bool:
    """Ask on stderr, read the answer from stdin: only 'y' or 'yes' agree."""
    print(f'{question} [y/N] ', end='', file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ('y', 'yes')


def cmd_cp(args: argparse.Namespace) -> int:
    """Copy a file or folder from one location to another, as the source
    listing streams (``--dry-run``: print each file the copy would write).
    """
    if args.dask:
        return cp_on_cluster(args)
    source, key, files = stream_location(args, args.src)
    head = list(itertools.islice(files, 2))
    if is_file(head, key):
        if args.dst.endswith('/'):
            target, dstkey = open_location(args.dst, **options(args)), key.rpartition('/')[2]
        else:
            target, dstkey = split_location(args.dst, **options(args))
    else:
        target, dstkey = open_location(args.dst, **options(args)), None
    pairs = checked(
        destinations(key, itertools.chain(head, files), dstkey), [key], dstkey, ends(source, target)
    )
    verb = 'would copy' if args.dry_run else 'copied'
    copied: List[str] = []
    count = 0
    if args.dry_run:
        for filekey, _, dst in pairs:
            count += 1
            if args.json:
                copied.append(dst)
            else:
                print(f'{verb} {escaped(relative_name(filekey, key))} -> {escaped(dst)}')
    else:
        done = with_progress(args, lambda bar: copy_planned(pairs, source, target, callback=bar))
        count, copied = len(done), list(done) if args.json else []
    emit(args, {'copied': copied, 'dry_run': args.dry_run},
         [] if args.quiet else [f'{verb} {count} file(s) to {shown_url(args.dst)}'])
    return 0


def cp_on_cluster(args: argparse.Namespace) -> int:
    """Copy a folder (or a file) into a destination folder in tasks on a
    Dask cluster (``--dask``; see :mod:`flowserv_fsspec.cluster`).
    """
    from flowserv_fsspec.cluster import client_of, copy_on_cluster
    if args.dry_run:
        raise InvalidConfigurationError(
            'options', '--dry-run with --dask', 'the workers plan their parts as they copy'
        )
    source, key = split_location(args.src, **options(args))
    target = open_location(args.dst, **options(args))
    with client_of(args.dask) as client:
        done = with_progress(args, lambda bar: copy_on_cluster(
            key, source, None, target, client, callback=bar, **travelling_options(args)
        ))
    emit(args, {'copied': list(done) if args.json else [], 'dry_run': False},
         [] if args.quiet else [f'copied {len(done)} file(s) to {shown_url(args.dst)}'])
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Make a destination folder hold what the source folder holds."""
    source = open_location(args.src, **options(args))
    target = open_location(args.dst, **options(args))
    rules = dict(delete=args.delete, checksum=args.checksum, dry_run=args.dry_run,
                 max_delete=args.max_delete, allow_empty_source=args.allow_empty_source,
                 size_only=args.size_only)
    if args.dask:
        from flowserv_fsspec.cluster import client_of, sync_on_cluster
        with client_of(args.dask) as client:
            result = with_progress(args, lambda bar: sync_on_cluster(
                source, target, client, callback=bar, **travelling_options(args), **rules
            ))
    else:
        result = with_progress(args, lambda bar: sync_files(source, target, callback=bar, **rules))
    verb = 'would ' if args.dry_run else ''
    lines = [f'{verb}copy {escaped(key)}' for key in result.copied] if args.dry_run else []
    lines += [f'{verb}delete {escaped(key)}' for key in result.deleted] if args.dry_run else []
    summary = (f'{verb}copy {len(result.copied)}, {verb}delete {len(result.deleted)}, '
               f'unchanged {result.unchanged}')
    emit(args, {'copied': result.copied, 'deleted': result.deleted,
                'unchanged': result.unchanged, 'dry_run': args.dry_run},
         lines + ([] if args.quiet else [summary]))
    return 0


def with_progress(args: argparse.Namespace, work: Any) -> Any:
    """Run work with a progress bar on a terminal (not with -q, --json or --dry-run)."""
    quiet = args.quiet or args.json or args.dry_run
    bar = progress_bar(quiet, sys.stderr)
    try:
        return work(bar)
    finally:
        if bar is not None:
            bar.close()


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Remove the leftovers of unfinished writes older than an age."""
    volume = open_location(args.url, **options(args))
    found = cleanup(volume, older_than=args.older_than, dry_run=args.dry_run)
    verb = 'would remove' if args.dry_run else 'removed'
    emit(args, {'removed': [{'kind': x.kind, 'key': x.key, 'age': round(x.age)} for x in found],
                'dry_run': args.dry_run},
         [f'{verb} {x.kind} {escaped(x.key)} ({round(x.age)} s old)' for x in found]
         + ([] if args.quiet else [f'{verb} {len(found)} leftover(s)']))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Copy a sample run local -> S3 -> S3 -> local on an embedded moto server."""
    from flowserv_fsspec.demo import run_demo
    return run_demo(files=args.files)


def run(args: argparse.Namespace) -> int:
    """Run the command that the arguments name; a failure is one line on
    standard error and exit code 1.

    Parameters
    ----------
    args: argparse.Namespace
        Parsed arguments (see :func:`flowserv_fsspec.cli.parser`).

    Returns
    -------
    int
    """
    try:
        return int(globals()[args.func](args))
    except (VolumeError, Refused) as ex:
        print(f'flowserv-fsspec {args.command}: {ex}', file=sys.stderr)
        return 1
