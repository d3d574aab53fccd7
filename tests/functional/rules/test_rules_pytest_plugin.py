"""The localcore pytest plugin, as a user runs it: pytest on examples/rule-testing (its own rules and policy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "rule-testing"


def _pytest(*args: str, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
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
    result = _pytest(
        f"--localcore-rules-dir={tmp_path}", "-k", "deployed"
    )  # `=`: pytest takes no rootdir from it
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ResourceNotFoundException" in result.stdout
    assert "1 failed" in result.stdout


def test_the_greenhouse_project_is_found_through_its_pyproject_table() -> None:
    """examples/greenhouse names its folders, functions manifest, env file and local-mode policy in
    `[tool.iotstream]`; its tests run its rules, policy and function (asynchronous Lambda action, iot-data)."""
    result = _pytest(cwd=REPO / "examples" / "greenhouse")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def _copy_example(tmp_path: Path) -> Path:
    project = tmp_path / "rule-testing"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return project


def test_a_broken_rule_stops_the_session_once_naming_the_file(tmp_path: Path) -> None:
    """A rule whose SQL does not parse (CreateTopicRule's SqlParseException) ends the session before any test
    runs, in one line naming the rule file, instead of one traceback per test."""
    project = _copy_example(tmp_path)
    rule = project / "iot_rules" / "temperature_alert.json"
    rule.write_text(rule.read_text().replace("SELECT temperature", "SELEKT temperature"))
    result = _pytest(cwd=project)
    assert result.returncode == 4, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if "localcore:" in line]
    assert len(errors) == 1 and str(rule) in errors[0]
    assert "Traceback" not in result.stdout and "passed" not in result.stdout


def test_a_missing_policies_folder_is_named(tmp_path: Path) -> None:
    """The plugin no longer falls back to iotstream's own policies: a project without its policies folder
    stops the session, naming the folder and the fix."""
    project = _copy_example(tmp_path)
    shutil.rmtree(project / "iot_policies")
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    result = _pytest(cwd=project)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"no policies folder {project / 'iot_policies'}" in result.stdout
