"""One localcore per package, running the `tests/fixtures/rules_stack` project: its rules, policies and relay Lambda."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcore.testing import RunningLocalcore
from tests.support.rules_stack import rules_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalcore]:
    with rules_stack(tmp_path_factory.mktemp("rules-stack")) as running:
        yield running
