"""Fixtures: a broker in a background thread (AWS limits by default) and paho clients that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from iot_policies.evaluator import Decision
from localcore.broker.authorization import Authority, ConnectRefused, ConnectRequest
from localcore.broker.testing import MqttTestClient, RunningBroker


@dataclass
class RuleAuthority:
    """Allows everything except the listed (action, resource) pairs."""

    principal_id: str
    deny: set[tuple[str, str]]

    def decide(self, action: str, resource: str) -> Decision:
        denied = (action, resource) in self.deny
        reason = f"test denies {action} on {resource}" if denied else "test allows"
        return Decision(allowed=not denied, action=action, resource=resource, reason=reason)


@dataclass
class RuleAuthenticator:
    """Username "bad" → bad credentials (0x86); everyone else gets a RuleAuthority with `deny`."""

    deny: set[tuple[str, str]] = field(default_factory=set)
    requests: list[ConnectRequest] = field(default_factory=list)

    def authenticate(self, request: ConnectRequest) -> Authority:
        self.requests.append(request)
        if request.username == "bad":
            raise ConnectRefused(0x86, "bad username or password")
        return RuleAuthority(request.username or request.client_id, self.deny)


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
