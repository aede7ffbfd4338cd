"""The documentation's Python examples run as written (a reader follows the
getting-started page word by word), and its CLI page names every command."""

import os
import re
from pathlib import Path

import pytest

from flowserv_fsspec.cli import parser


DOCS = Path(__file__).parent.parent / 'docs'


def python_blocks(page):
    return re.findall(r'```python\n(.*?)```', (DOCS / page).read_text(), re.S)


@pytest.fixture
def fresh_aws_environment(monkeypatch):
    """The README's example sets the AWS environment: it is put back after,
    and no S3 client built for another endpoint is reused."""
    from flowserv_fsspec.backends import s3_client
    for name in ('AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
                 'AWS_DEFAULT_REGION'):
        monkeypatch.setenv(name, os.environ.get(name, ''))
    s3_client.S3FileSystem.clear_instance_cache()
    yield
    s3_client.S3FileSystem.clear_instance_cache()


@pytest.mark.parametrize('page', ['getting-started.md', 'concepts.md', 'fsspec.md', '../README.md'])
def test_python_examples_run(page, tmp_path, monkeypatch, capsys, fresh_aws_environment):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page)
    assert blocks
    for code in blocks:
        exec(compile(code, f'{page}', 'exec'), {})
    printed = capsys.readouterr().out.splitlines()
    # Each print's output is written in its comment on the page, before an
    # optional '  (note)'; '...' ends a shortened output.
    expected = [
        line.split('# ', 1)[1].split('  (')[0].strip().removesuffix('...').strip()
        for code in blocks for line in code.splitlines()
        if line.lstrip().startswith('print(') and '# ' in line
    ]
    assert len(printed) == len(expected)
    for out, want in zip(printed, expected):
        assert out.startswith(want), (out, want)


def test_cli_page_documents_every_command():
    page = (DOCS / 'cli.md').read_text()
    commands = parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f'## {name}:' in page, name
        assert f'$ flowserv-fsspec {name}' in page, name
