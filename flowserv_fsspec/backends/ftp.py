"""ftp:// volumes: fsspec's FTP filesystem, whose ``find`` of a single file
answers the file as its own child (``d/x.txt/x.txt``); listings here ask
what the path is first.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict

from flowserv_fsspec.errors import UnknownFileError
from flowserv_fsspec.translate import translate_errors
from flowserv_fsspec.volume import FsspecVolume


class FtpVolume(FsspecVolume):
    """Storage volume for the files below a folder of an FTP server."""

    def _find(self, path: str, key: str) -> Dict[str, Dict[str, Any]]:
        """List a file as itself, a folder with ``find``."""
        if key:
            with contextlib.suppress(UnknownFileError), translate_errors(key, self.describe()):
                info = self.fs.info(path)
                if info.get('type') == 'file':
                    return {path: info}
        return super()._find(path, key)
