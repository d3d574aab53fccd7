"""The localcore pytest plugin, as a user runs it: pytest on examples/rule-testing (its own rules and policy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "rule-testing"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=EXAMPLE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_example_project_passes_with_the_plugin_fixtures() -> None:
    """docs/testing-your-rules.md: `localcore` + `mqtt_client` fixtures run the user's rule and policy."""
    result = _pytest()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_rules_dir_option_overrides_the_ini_setting(tmp_path: Path) -> None:
    """`--localcore-rules-dir` wins over `localcore_rules_dir` in pytest.ini: with no rules, none is deployed."""
    result = _pytest("--localcore-rules-dir", str(tmp_path), "-k", "deployed")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ResourceNotFoundException" in result.stdout
    assert "1 failed" in result.stdout
