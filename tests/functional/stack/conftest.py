"""One running localcore for the whole-stack tests (scripted LLM, fast retries)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.local_app import local_config
from localcore.functions import FunctionSettings
from localcore.testing import RunningLocalcore

SCRIPT = "Streaming over MQTT works. Every delta arrives in order, and the stream always ends."


@pytest.fixture(scope="package")
def script() -> str:
    """The text the scripted LLM streams in these tests."""
    return SCRIPT


@pytest.fixture(scope="package")
def stack() -> Iterator[RunningLocalcore]:
    functions = FunctionSettings(
        environment={"LLM_PROVIDER": "scripted", "SCRIPTED_TEXT": SCRIPT, "SCRIPTED_TOKENS_PER_S": "400"},
        retry_delays_seconds=(0.05, 0.05),
    )
    with RunningLocalcore(local_config(functions=functions)) as running:
        yield running
