"""One localcore serving examples/greenhouse for the observability tests, with a ready file the CLI reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcore.iam.private_files import write_private_json
from localcore.project import load_project
from localcore.pytest_plugin import project_config
from localcore.testing import RunningLocalcore

GREENHOUSE = Path(__file__).resolve().parents[3] / "examples" / "greenhouse"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalcore]:
    state = tmp_path_factory.mktemp("observe")
    with RunningLocalcore(project_config(load_project(GREENHOUSE), state_dir=state)) as running:
        write_private_json(state / "ready.json", running.endpoints)
        yield running


@pytest.fixture(scope="package")
def ready_file(stack: RunningLocalcore) -> Path:
    return Path(stack.core.config.state_dir) / "ready.json"
