"""The Python API's example — the docstring of `clients`, repeated in README.md and docs/clients.md — runs as
written against a local stack found through `.localcore/ready.json` in the current directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import clients
from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.cli import FAST_SCRIPT, ROOT, cli_environment

EXAMPLE = re.compile(r"```python\n(from clients import Client, .*?)```", re.S)


def _example(text: str) -> str:
    match = EXAMPLE.search(text)
    assert match is not None
    return match.group(1)


def test_readme_and_docs_repeat_the_docstring_example(tmp_path: Path) -> None:
    code = _example(clients.__doc__ or "")
    assert _example((ROOT / "README.md").read_text()) == code
    assert _example((ROOT / "docs" / "clients.md").read_text()) == code


def test_the_example_runs_against_the_local_stack(
    fast: tuple[RunningLocalcore, Target], tmp_path: Path
) -> None:
    _, target = fast
    (tmp_path / ".localcore").mkdir()
    shutil.copy(target.source, tmp_path / ".localcore" / "ready.json")
    done = subprocess.run(
        [sys.executable, "-c", _example(clients.__doc__ or "")],
        cwd=tmp_path,
        env=cli_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(FAST_SCRIPT) and "[end_turn]" in done.stdout
    assert list((tmp_path / "xdg" / "iotstream").iterdir()) == [
        tmp_path / "xdg" / "iotstream" / "tokens.json"
    ]
