"""Fault: the broker restarts while clients hold persistent sessions.

AWS IoT keeps a persistent session's subscriptions and its QoS 1 messages while the client is away, and resumes
it when the client reconnects with Clean Start 0 (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-persistent-sessions).
Here localcore's broker stops every listener (each client gets DISCONNECT 0x8B, server shutting down), the
prompt function goes on publishing into the sessions, and the broker listens again on the same ports.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from clients import Client
from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.faultkit import SCRIPT, new_user, running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    with running(tmp_path_factory.mktemp("restart"), {}) as pair:
        yield pair


def restart_broker(core: RunningLocalcore, wait_while_down: bool) -> None:
    """Stop the broker's listeners (clients disconnected), optionally wait for every Lambda to finish
    publishing, then listen again on the same ports; the broker's sessions live through it."""
    server = core.core.broker_server
    server.config = dataclasses.replace(server.config, mqtt_port=server.mqtt_port, ws_port=server.ws_port)
    core.thread.run(server.stop())
    if wait_while_down:
        core.wait_lambdas_idle()
    core.thread.run(server.start())


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_an_answer_survives_a_broker_restart(stack: tuple[RunningLocalcore, Target], transport: str) -> None:
    """Restart the broker after the first text and keep it down until the whole rest of the answer was
    published: the client reconnects by itself, its session is resumed, and the answer completes with exactly
    the model's text (QoS 1 events queued in the session, nothing lost or repeated)."""
    core, target = stack
    resumed = threading.Event()
    statuses: list[str] = []

    def on_status(status: str) -> None:
        statuses.append(status)
        if status == "resumed":
            resumed.set()

    with Client(new_user(target), transport=transport, on_status=on_status) as chat:
        answer = chat.ask("a long one")
        while not answer.text:
            answer.next_event()
        restart_broker(core, wait_while_down=True)
        assert answer.wait().text == SCRIPT
        assert resumed.wait(30), statuses
        assert chat.ask("and after it?").wait().text == SCRIPT
