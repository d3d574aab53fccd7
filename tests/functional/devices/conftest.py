"""One localcore with its device listeners on (MQTT over TLS with client certificates, and wss://) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.local_app import local_config
from localcore.testing import RunningLocalcore


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    with RunningLocalcore(local_config(mqtts_port=0, wss_port=0)) as running:
        yield running
