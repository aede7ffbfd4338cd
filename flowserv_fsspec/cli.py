"""The ``flowserv-fsspec`` command line.

A *location* names a volume, or a file or folder inside one: a URL
(``s3://bucket/runs/r1``, ``memory://runs``, a local path) or ``@doc.json``
(a file holding a flowserv volume document), optionally followed by
``:key/inside`` (``@doc.json:runs/r1``). Exit codes: 0 success, 1 failure
(one line on stderr naming what failed), 2 usage error. ``--json`` prints
machine-readable results on standard output.
"""

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, TextIO, Tuple

from fsspec.callbacks import Callback, TqdmCallback

from flowserv_fsspec.base import StorageVolume, copy_planned
from flowserv_fsspec.cleanup import DEFAULT_AGE, cleanup
from flowserv_fsspec.errors import UnknownFileError, VolumeError
from flowserv_fsspec.handles import IOHandle, copy_into
from flowserv_fsspec.locations import open_location, split_location
from flowserv_fsspec.plan import destinations
from flowserv_fsspec.sync import sync_files
from flowserv_fsspec.urls import shown_url


Files = List[Tuple[str, IOHandle]]


class Refused(Exception):
    """A command that would do something the user did not ask for clearly."""


# -- Locations -------------------------------------------------------------------

def options(args: argparse.Namespace) -> Dict[str, Any]:
    """Storage options for remote locations from the command line (``--timeout``)."""
    return {'timeout': args.timeout} if args.timeout is not None else {}


def walk_location(args: argparse.Namespace, location: str) -> Tuple[StorageVolume, str, Files]:
    """List the files at a location: its volume, key and the walk result.

    A key that names nothing is an error (``UnknownFileError``); an empty
    folder or volume root is not.
    """
    volume, key = split_location(location, **options(args))
    files = volume.walk(key)
    if key and not files and volume.key_type(key) != 'folder':
        raise UnknownFileError(key, volume.describe())
    return volume, key, files


def is_file(files: Files, key: str) -> bool:
    """Whether a walk result names the single file ``key``."""
    return bool(key) and len(files) == 1 and files[0][0] == key


def relative(files: Files, key: str) -> Files:
    """Give walked files keys relative to the walked folder; the file at the
    key itself (a file, or on object stores a file beside a folder of the same
    name) keeps its name.
    """
    cut = len(key) + 1 if key else 0
    return [
        (key.rpartition('/')[2] if filekey == key else filekey[cut:], handle)
        for filekey, handle in files
    ]


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
    try:
        return TqdmCallback(tqdm_kwargs={'unit': 'B', 'unit_scale': True, 'file': stream})
    except ImportError:
        return None


# -- Commands --------------------------------------------------------------------

def cmd_ls(args: argparse.Namespace) -> int:
    """List a folder: its files and sub-folders (``-R``: every file below it)."""
    _, key, files = walk_location(args, args.url)
    entries: Dict[str, List[int]] = dict()  # name -> [size, is folder]
    for name, handle in relative(files, key):
        head, sep, _ = name.partition('/')
        entry = name if args.recursive or not sep else head + '/'
        size = handle.size() if args.long or args.json else 0
        total = entries.setdefault(entry, [0, int(entry.endswith('/'))])
        total[0] += size
    data: List[Dict[str, Any]] = [
        {'key': name, 'type': 'folder' if folder else 'file', 'size': size}
        for name, (size, folder) in entries.items()
    ]
    emit(args, data, [
        f"{item['size']:>12}  {item['key']}" if args.long else item['key'] for item in data
    ])
    return 0


def cmd_cat(args: argparse.Namespace) -> int:
    """Write a file's bytes to standard output."""
    volume, key = split_location(args.url, **options(args))
    copy_into(volume.load(key), sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


def cmd_du(args: argparse.Namespace) -> int:
    """Count the files and bytes below a location."""
    _, _, files = walk_location(args, args.url)
    nbytes = sum(handle.size() for _, handle in files)
    emit(args, {'files': len(files), 'bytes': nbytes},
         [f'{len(files)} files, {nbytes} bytes ({human(nbytes)})'])
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
    volume, key, files = walk_location(args, args.url)
    if not is_file(files, key) and not args.recursive:
        raise Refused(f'{shown_url(args.url)} is a folder: use rm -r')
    if not key:
        if not args.yes and not confirm(f'Delete all {len(files)} files of {volume.describe()}?'):
            raise Refused(f'{shown_url(args.url)}: not confirmed, nothing deleted')
        volume.erase()
    else:
        volume.delete(key)
    deleted = [filekey for filekey, _ in files]
    emit(args, {'deleted': deleted}, [] if args.quiet else [f'deleted {len(deleted)} file(s)'])
    return 0


def confirm(question: str) -> bool:
    """Ask on stderr, read the answer from stdin: only 'y' or 'yes' agree."""
    print(f'{question} [y/N] ', end='', file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ('y', 'yes')


def cmd_cp(args: argparse.Namespace) -> int:
    """Copy a file or folder from one location to another."""
    source, key, files = walk_location(args, args.src)
    if is_file(files, key):
        if args.dst.endswith('/'):
            target, dstkey = open_location(args.dst, **options(args)), key.rpartition('/')[2]
        else:
            target, dstkey = split_location(args.dst, **options(args))
    else:
        target, dstkey = open_location(args.dst, **options(args)), None
    pairs = destinations(key, files, dstkey)
    if not args.dry_run:
        with_progress(args, lambda bar: copy_planned(pairs, source, target, callback=bar))
    verb = 'would copy' if args.dry_run else 'copied'
    names = [name for name, _ in relative(files, key)]  # keys as seen from the source URL
    lines = [f'{verb} {n} -> {d}' for n, (_, _, d) in zip(names, pairs)] if args.dry_run else []
    emit(args, {'copied': [dst for _, _, dst in pairs], 'dry_run': args.dry_run},
         lines + ([] if args.quiet else [f'{verb} {len(pairs)} file(s) to {shown_url(args.dst)}']))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Make a destination folder hold what the source folder holds."""
    source = open_location(args.src, **options(args))
    target = open_location(args.dst, **options(args))
    result = with_progress(args, lambda bar: sync_files(
        source, target, delete=args.delete, checksum=args.checksum, dry_run=args.dry_run,
        callback=bar, max_delete=args.max_delete, allow_empty_source=args.allow_empty_source,
        size_only=args.size_only
    ))
    verb = 'would ' if args.dry_run else ''
    lines = [f'{verb}copy {key}' for key in result.copied] if args.dry_run else []
    lines += [f'{verb}delete {key}' for key in result.deleted] if args.dry_run else []
    summary = (f'{verb}copy {len(result.copied)}, {verb}delete {len(result.deleted)}, '
               f'unchanged {len(result.unchanged)}')
    emit(args, {'copied': result.copied, 'deleted': result.deleted,
                'unchanged': len(result.unchanged), 'dry_run': args.dry_run},
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
         [f'{verb} {x.kind} {x.key} ({round(x.age)} s old)' for x in found]
         + ([] if args.quiet else [f'{verb} {len(found)} leftover(s)']))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Copy a sample run local -> S3 -> S3 -> local on an embedded moto server."""
    from flowserv_fsspec.demo import run_demo
    return run_demo(files=args.files)


# -- Parser ----------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    """Build the argument parser of the command line.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = argparse.ArgumentParser(
        prog='flowserv-fsspec', description='Storage volumes on any fsspec filesystem.',
        epilog='A location is a URL, a local path, or @doc.json[:key] (a flowserv volume '
               'document). Exit codes: 0 ok, 1 failure, 2 usage.'
    )
    p.add_argument('--timeout', type=seconds, metavar='SECONDS',
                   help='network timeout of remote locations (connect and each read); '
                        'the backends\' defaults give up on a silent server within about '
                        'two minutes, retries included')
    sub = p.add_subparsers(dest='command', required=True)
    json_out = argparse.ArgumentParser(add_help=False)
    json_out.add_argument('--json', action='store_true', help='print results as JSON')
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument('-q', '--quiet', action='store_true', help='no summary, no progress bar')
    dry_run = argparse.ArgumentParser(add_help=False)
    dry_run.add_argument('-n', '--dry-run', action='store_true',
                         help='say what would be done, do nothing')

    ls = sub.add_parser('ls', parents=[json_out], help='list a folder')
    ls.add_argument('url')
    ls.add_argument('-l', '--long', action='store_true', help='show sizes in bytes')
    ls.add_argument('-R', '--recursive', action='store_true', help='list every file below')
    ls.set_defaults(func=cmd_ls)
    cat = sub.add_parser('cat', help="print a file's contents")
    cat.add_argument('url')
    cat.set_defaults(func=cmd_cat)
    du = sub.add_parser('du', parents=[json_out], help='count the files and bytes below')
    du.add_argument('url')
    du.set_defaults(func=cmd_du)
    describe = sub.add_parser('describe', help="print a volume's document as JSON")
    describe.add_argument('url')
    describe.set_defaults(func=cmd_describe)
    rm = sub.add_parser('rm', parents=[json_out, quiet], help='delete a file or a folder')
    rm.add_argument('url')
    rm.add_argument('-r', '--recursive', action='store_true', help='delete folders')
    rm.add_argument('-y', '--yes', action='store_true', help='do not ask before emptying a volume')
    rm.set_defaults(func=cmd_rm)
    cp = sub.add_parser('cp', parents=[json_out, quiet, dry_run],
                        help='copy a file or a folder between any two volumes')
    cp.add_argument('src')
    cp.add_argument('dst', help="destination file, or folder (a folder source, or a trailing '/')")
    cp.set_defaults(func=cmd_cp)
    sync = sub.add_parser('sync', parents=[json_out, quiet, dry_run],
                          help='copy what is missing or different; --delete to mirror')
    sync.add_argument('src')
    sync.add_argument('dst')
    sync.add_argument('--delete', action='store_true', help='delete files the source lacks')
    compare = sync.add_mutually_exclusive_group()
    compare.add_argument('-c', '--checksum', action='store_true',
                         help='compare sizes and contents (sha256), not modification times')
    compare.add_argument('--size-only', action='store_true',
                         help='compare sizes only (default: sizes and modification times)')
    sync.add_argument('--max-delete', type=count, metavar='N',
                      help='refuse to delete more than N files (nothing is done then)')
    sync.add_argument('--allow-empty-source', action='store_true',
                      help='with --delete, let an empty source folder empty the destination')
    sync.set_defaults(func=cmd_sync)
    clean = sub.add_parser('cleanup', parents=[json_out, quiet, dry_run],
                           help='remove leftovers of unfinished writes (.part files, '
                                'S3 multipart uploads)')
    clean.add_argument('url')
    clean.add_argument('--older-than', type=age, default=DEFAULT_AGE, metavar='AGE',
                       help='only those older than AGE: seconds, or with s, m, h or d '
                            '(default 24h)')
    clean.set_defaults(func=cmd_cleanup)
    demo = sub.add_parser('demo', help='copy a sample run through an embedded S3 server')
    demo.add_argument('--files', type=count, default=100, help='number of small log files')
    demo.set_defaults(func=cmd_demo)
    return p


def count(text: str) -> int:
    """Parse a count of files (a whole number, 0 or more)."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def seconds(text: str) -> float:
    """Parse a duration in seconds (more than 0)."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def age(text: str) -> float:
    """Parse an age: seconds, or a number with the unit s, m, h or d."""
    units = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}
    scale = units.get(text[-1:], 1)
    value = float(text[:-1] if text[-1:] in units else text)
    if value < 0:
        raise ValueError(text)
    return value * scale


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv: list of string, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (VolumeError, Refused) as ex:
        print(f'flowserv-fsspec {args.command}: {ex}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Writes in flight were discarded: no partial file is left.
        print(f'flowserv-fsspec {args.command}: interrupted', file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more can be written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f'flowserv-fsspec {args.command}: output closed by the reader', file=sys.stderr)
        return 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
