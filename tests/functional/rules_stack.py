"""The `tests/fixtures/rules_stack` project (its own rules, policies and relay Lambda) on a local stack."""

from __future__ import annotations

from pathlib import Path

from localcore.pytest_plugin import build_config
from localcore.testing import RunningLocalcore

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "rules_stack"


def rules_stack(state_dir: Path) -> RunningLocalcore:
    """A not-yet-started localcore running the fixture project (use it as a context manager)."""
    config = build_config(
        state_dir, rules_dir=PROJECT / "iot_rules", policies_dir=PROJECT / "iot_policies", lambdas_dir=PROJECT
    )
    return RunningLocalcore(config)
