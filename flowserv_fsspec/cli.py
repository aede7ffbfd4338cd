"""The ``flowserv-fsspec`` command line.

A *location* names a volume, or a file or folder inside one: a URL
(``s3://bucket/runs/r1``, ``memory://runs``, a local path) or ``@doc.json``
(a file holding a flowserv volume document), optionally followed by
``:key/inside`` (``@doc.json:runs/r1``). Exit codes: 0 success, 1 failure
(one line on stderr naming what failed), 2 usage error. ``--json`` prints
machine-readable results on standard output.

This module parses the arguments and imports nothing else of the package
until a command runs (:mod:`flowserv_fsspec.commands`), so that Ctrl-C at
any moment ends the program with one line and exit code 130.
"""

import argparse
import os
import sys
from typing import List, Optional

from flowserv_fsspec.leftovers import DEFAULT_AGE


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
    ls.set_defaults(func='cmd_ls')
    cat = sub.add_parser('cat', help="print a file's contents")
    cat.add_argument('url')
    cat.set_defaults(func='cmd_cat')
    du = sub.add_parser('du', parents=[json_out], help='count the files and bytes below')
    du.add_argument('url')
    du.set_defaults(func='cmd_du')
    describe = sub.add_parser('describe', help="print a volume's document as JSON")
    describe.add_argument('url')
    describe.set_defaults(func='cmd_describe')
    rm = sub.add_parser('rm', parents=[json_out, quiet], help='delete a file or a folder')
    rm.add_argument('url')
    rm.add_argument('-r', '--recursive', action='store_true', help='delete folders')
    rm.add_argument('-y', '--yes', action='store_true', help='do not ask before emptying a volume')
    rm.set_defaults(func='cmd_rm')
    cluster = argparse.ArgumentParser(add_help=False)
    cluster.add_argument('--dask', metavar='ADDRESS',
                         help="run in tasks on a Dask cluster: its scheduler's address, or "
                              "'local' (worker processes on this machine; needs the extra 'dask')")
    cp = sub.add_parser('cp', parents=[json_out, quiet, dry_run, cluster],
                        help='copy a file or a folder between any two volumes')
    cp.add_argument('src')
    cp.add_argument('dst', help="destination file, or folder (a folder source, or a trailing '/')")
    cp.set_defaults(func='cmd_cp')
    sync = sub.add_parser('sync', parents=[json_out, quiet, dry_run, cluster],
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
    sync.set_defaults(func='cmd_sync')
    clean = sub.add_parser('cleanup', parents=[json_out, quiet, dry_run],
                           help='remove leftovers of unfinished writes (.part files, '
                                'S3 multipart uploads)')
    clean.add_argument('url')
    clean.add_argument('--older-than', type=age, default=DEFAULT_AGE, metavar='AGE',
                       help='only those older than AGE: seconds, or with s, m, h or d '
                            '(default 24h)')
    clean.set_defaults(func='cmd_cleanup')
    demo = sub.add_parser('demo', help='copy a sample run through an embedded S3 server')
    demo.add_argument('--files', type=count, default=100, help='number of small log files')
    demo.set_defaults(func='cmd_demo')
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
    program = 'flowserv-fsspec'
    try:
        args = parser().parse_args(argv)
        program += f' {args.command}'
        from flowserv_fsspec import commands
        return commands.run(args)
    except KeyboardInterrupt:
        # Writes in flight were discarded: no partial file is left.
        print(f'{program}: interrupted', file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more can be written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f'{program}: output closed by the reader', file=sys.stderr)
        return 1
