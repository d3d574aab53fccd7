"""Resume: a client whose connection is cut mid-answer reconnects to its persistent session and receives the rest
of the answer, nothing lost or repeated.

AWS: "Persistent sessions store a client's subscriptions and messages, with a quality of service (QoS) of 1, that
have not been acknowledged by the client. When a disconnected device reconnects to a persistent session, the
session resumes, its subscriptions are reinstated, and subscribed messages received prior to the reconnection
... are sent to the client" — MQTT 5 Clean Start 0 with Session Expiry > 0
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-persistent-sessions).
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from clients import Client, ClientTimeoutError
from clients.targets import Target
from iotstream_lambdas.streaming.wire import event_text
from localcore.testing import RunningLocalcore
from tests.support.cli import SLOW_SCRIPT, new_user
from tests.support.tcp_proxy import CuttableProxy


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_answer_survives_a_cut_connection(slow: tuple[RunningLocalcore, Target], transport) -> None:
    """Cut the TCP connection after the first text, keep the client out until the Lambda has published the whole
    rest of the answer (so all of it waits in the broker's session queue), then let it reconnect: the answer
    completes with exactly the script's text, and the client reports the session as resumed."""
    core, target = slow
    session = new_user(target)
    proxy = CuttableProxy(session.config.mqtt_port)
    through_proxy = dataclasses.replace(session.config, websocket_endpoint=f"ws://127.0.0.1:{proxy.port}")
    session.config = through_proxy
    statuses: list[str] = []
    resumed = threading.Event()

    def on_status(status: str) -> None:
        statuses.append(status)
        if status == "resumed":
            resumed.set()

    try:
        with Client(session, transport=transport, on_status=on_status) as chat:
            answer = chat.ask("a long one")
            received: list[str] = []
            for event in answer.events():
                received.append(event_text(event))
                if "".join(received):
                    break  # the first text is here: the stream is under way
            proxy.hold()
            proxy.cut()
            core.wait_lambdas_idle()  # the whole rest of the answer is published while the client is away
            assert not answer.done
            proxy.release()
            received += [event_text(event) for event in answer.events()]
            assert resumed.wait(30), statuses
    finally:
        proxy.close()
    assert "".join(received) == SLOW_SCRIPT == answer.text
    assert answer.stop == "end_turn" and answer.messages == answer.metrics["messages"]
    assert proxy.accepted >= 2  # a second connection carried the rest


@pytest.mark.parametrize("transport", ["mqtt5", "paho"])
def test_expired_session_is_subscribed_again_and_the_gap_is_reported(
    slow: tuple[RunningLocalcore, Target], transport
) -> None:
    """Session Expiry 1 s and the client kept out for longer: the broker dropped the session and what was queued
    (mqtt.html: expiry counts from the disconnect). The CONNACK says `sessionPresent` 0, the client subscribes
    again, the cut answer ends with ClientTimeoutError naming the missing seqs, and the next answer streams."""
    core, target = slow
    session = new_user(target)
    proxy = CuttableProxy(session.config.mqtt_port)
    session.config = dataclasses.replace(session.config, websocket_endpoint=f"ws://127.0.0.1:{proxy.port}")
    statuses: list[str] = []
    lost = threading.Event()

    def on_status(status: str) -> None:
        statuses.append(status)
        if status.startswith("reconnected (session lost"):
            lost.set()

    try:
        with Client(
            session, transport=transport, session_expiry_s=1, idle_timeout=3, on_status=on_status
        ) as chat:
            answer = chat.ask("a long one")
            while not answer.text:
                answer.next_event()
            proxy.hold()
            proxy.cut()
            core.wait_lambdas_idle()  # the stream ended about 1.7 s after the cut: the 1 s session is gone
            assert chat.client_id not in core.core.broker.sessions
            proxy.release()
            assert lost.wait(30), statuses
            with pytest.raises(ClientTimeoutError, match=r"waiting for seq \d+"):
                answer.wait()
            assert chat.ask("again").wait().text == SLOW_SCRIPT
    finally:
        proxy.close()
