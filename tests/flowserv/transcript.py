"""Shell transcripts of the docs, run as written: each ``console`` block's
``$ command`` lines run one after the other in bash (exports and sourced
files carry over to the next command), and what each printed (stdout and
stderr) must be the lines that follow it on the page.

Run-specific values are matched, not compared: a 32-digit hex identifier on
the page stands for whatever identifier the run printed in its place (the
same one wherever it appears again, also inside later commands), a
timestamp for any timestamp, and a line ``...`` for any number of lines.
Trailing spaces do not count.
"""

import os
import re
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Tuple


HEX_ID = re.compile(r'[0-9a-f]{32}')
TIMESTAMP = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?')


def console_blocks(page: Path) -> Iterator[Tuple[str, List[Tuple[str, List[str]]]]]:
    """The page's console blocks: (the heading above, [(command, output lines)])."""
    heading = ''
    text = page.read_text()
    for match in re.finditer(r'^(#+ [^\n]*)$|^```console\n(.*?)^```', text, re.M | re.S):
        if match.group(1):
            heading = match.group(1).lstrip('# ')
            continue
        steps: List[Tuple[str, List[str]]] = []
        for line in match.group(2).splitlines():
            if line.startswith('$ '):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        yield heading, steps


class Transcript:
    """Runs commands in bash in one folder, with an environment carried from
    one command to the next, and checks their output against the page."""

    def __init__(self, cwd: Path, env: Dict[str, str]):
        self.cwd = cwd
        self.env = dict(env)
        self.ids: Dict[str, str] = {}

    def run(self, command: str, expected: List[str]) -> None:
        for doc_id in HEX_ID.findall(command):
            assert doc_id in self.ids, f'{command}: {doc_id} was never printed before'
            command = command.replace(doc_id, self.ids[doc_id])
        env_file = self.cwd / '.transcript-env'
        script = f'{command}\n__rc=$?\nenv -0 > {env_file}\nexit $__rc\n'
        proc = subprocess.run(
            ['bash', '-c', script], cwd=self.cwd, env=self.env, timeout=180,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        printed = [line.rstrip() for line in proc.stdout.splitlines()]
        assert proc.returncode == 0, (command, proc.returncode, printed)
        self.env = dict(
            item.split('=', 1) for item in env_file.read_text().split('\0') if '=' in item
        )
        self.match(command, [line.rstrip() for line in expected], printed)

    def match(self, command: str, expected: List[str], printed: List[str]) -> None:
        """Match printed lines to the expected ones, binding identifiers."""
        i = 0
        for n, want in enumerate(expected):
            if want == '...':
                # Skip to where the next expected line matches (or to the end).
                following = expected[n + 1] if n + 1 < len(expected) else None
                while i < len(printed) and not (
                    following is not None and self.fits(following, printed[i])
                ):
                    i += 1
                continue
            assert i < len(printed), (command, 'missing line', want, printed)
            assert self.fits(want, printed[i], bind=True), (command, want, printed[i], printed)
            i += 1
        assert i == len(printed), (command, 'unexpected lines', printed[i:])

    def fits(self, want: str, line: str, bind: bool = False) -> bool:
        """Whether a printed line is the expected one (identifiers as bound so far)."""
        want, line = TIMESTAMP.sub('<time>', want), TIMESTAMP.sub('<time>', line)
        parts = HEX_ID.split(want)
        pattern = '([0-9a-f]{32})'.join(re.escape(part) for part in parts)
        found = re.fullmatch(pattern, line)
        if found is None:
            return False
        pairs = list(zip(HEX_ID.findall(want), found.groups()))
        if any(self.ids.get(doc_id, got) != got for doc_id, got in pairs):
            return False
        if bind:
            self.ids.update(pairs)
        return True


def base_environment(home: Path) -> Dict[str, str]:
    """The test process's environment without flowserv's settings, with this
    interpreter's scripts first on the PATH and a home folder of its own."""
    import sys
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith('FLOWSERV_') and not key.startswith('PYTEST_')
    }
    env['PATH'] = os.pathsep.join([os.path.dirname(sys.executable), env.get('PATH', '')])
    home.mkdir(parents=True, exist_ok=True)
    env['HOME'] = str(home)
    return env
