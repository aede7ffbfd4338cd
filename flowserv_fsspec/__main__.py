"""The ``flowserv-fsspec`` program (also ``python -m flowserv_fsspec``).

Ctrl-C while the program starts ends it quietly with exit code 130: this
module, the first of the package to run, imports nothing and answers the
interrupt itself until :func:`flowserv_fsspec.cli.main` takes over (which
lets a command discard its writes in flight, then says ``interrupted``).
"""

import os
import signal
import sys


def interrupted(signum: int, frame: object) -> None:
    """End the program on Ctrl-C before any command runs: nothing to undo."""
    os.write(2, b'flowserv-fsspec: interrupted\n')
    os._exit(130)


def main() -> int:
    """Run the command line (see :func:`flowserv_fsspec.cli.main`).

    Returns
    -------
    int
        The exit code.
    """
    signal.signal(signal.SIGINT, interrupted)
    from flowserv_fsspec.cli import main as command_line
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return command_line()


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
