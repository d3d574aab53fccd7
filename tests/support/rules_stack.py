"""The `tests/fixtures/rules_stack` project (its own rules, policies and relay Lambda) on a local stack."""

from __future__ import annotations

from pathlib import Path

from localcore.project import load_project
from localcore.pytest_plugin import project_config
from localcore.testing import RunningLocalcore

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "rules_stack"


def rules_stack(state_dir: Path) -> RunningLocalcore:
    """A not-yet-started localcore running the fixture project (use it as a context manager)."""
    return RunningLocalcore(project_config(load_project(PROJECT), state_dir=state_dir))
