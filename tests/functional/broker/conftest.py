"""Fixtures: a broker in a background thread (AWS limits by default) and paho clients that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcore.broker.testing import MqttTestClient, RunningBroker


@pytest.fixture
def make_broker() -> Iterator[Callable[..., RunningBroker]]:
    started: list[RunningBroker] = []

    def factory(**kwargs: Any) -> RunningBroker:
        running = RunningBroker(**kwargs).start()
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture
def broker(make_broker: Callable[..., RunningBroker]) -> RunningBroker:
    return make_broker()


@pytest.fixture
def client() -> Iterator[Callable[..., MqttTestClient]]:
    """`client(port, client_id, protocol=5, ...)` → an unconnected client, disconnected at teardown."""
    made: list[MqttTestClient] = []

    def factory(port: int, client_id: str = "", **kwargs: Any) -> MqttTestClient:
        made.append(MqttTestClient(port, client_id, **kwargs))
        return made[-1]

    yield factory
    for each in made:
        each.disconnect()
