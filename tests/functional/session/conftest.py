"""One running localcore (scripted LLM, auto-confirm on, as `iotstream up` runs) for the session tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.config import ClientConfig
from localcore.testing import RunningLocalcore
from tests.support.session_support import Users, stack


@pytest.fixture(scope="package")
def core() -> Iterator[RunningLocalcore]:
    yield from stack()


@pytest.fixture(scope="package")
def client_config(core: RunningLocalcore) -> ClientConfig:
    return ClientConfig.from_localcore(core.endpoints)


@pytest.fixture(scope="package")
def users(core: RunningLocalcore, client_config: ClientConfig) -> Users:
    return Users(core, client_config)
