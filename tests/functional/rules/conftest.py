"""One localcore per package, running the `tests/fixtures/rules_stack` project: its rules, policies and relay Lambda."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcore.pytest_plugin import build_config
from localcore.testing import RunningLocalcore

PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "rules_stack"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalcore]:
    config = build_config(
        tmp_path_factory.mktemp("rules-stack"),
        rules_dir=PROJECT / "iot_rules",
        policies_dir=PROJECT / "iot_policies",
        lambdas_dir=PROJECT,
    )
    with RunningLocalcore(config) as running:
        yield running
