"""Fault: a subscriber stops reading (a frozen tab, a process stopped in a debugger) while its answer streams.

The publish path must not wait for it: iot-data Publish returns once the broker accepted the message, so the
prompt function finishes on time, and other users' answers are not slowed. The broker holds a bounded queue
for the stuck connection (`BrokerLimits.max_outbound_packets`) and closes it once it misses its keep-alive:
AWS closes a connection after 1.5 x its keep-alive without a packet from the client
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, "keep alive"). The keep-alive floor is
lowered here (AWS's is 30 s) so the test waits seconds, not a minute.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from clients import Client
from clients.targets import Target
from iotstream_lambdas.streaming.wire import Prompt, encode_prompt, prompt_topic, response_filter
from localcore.broker.codec import encode_connect, encode_publish, encode_subscribe
from localcore.broker.limits import BrokerLimits
from localcore.testing import RunningLocalcore
from tests.support.faultkit import SCRIPT, TOKENS_PER_S, new_user, running

KEEP_ALIVE_S = 2
CONNACK_AND_SUBACK = bytes((0x20, 2, 0, 0, 0x90, 3, 0, 1, 1))
"""MQTT 3.1.1: CONNACK accepted, SUBACK of packet 1 granting QoS 1."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    limits = BrokerLimits(keep_alive_min=1)
    with running(tmp_path_factory.mktemp("stuck"), {}, limits=limits) as pair:
        yield pair


def stuck_subscriber(port: int, identity: str) -> socket.socket:
    """A local-mode client that subscribes to its answers, asks, and then never reads nor pings again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # a small window: the broker's writes back up
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        encode_connect(identity, keep_alive=KEEP_ALIVE_S, username=identity)
        + encode_subscribe(1, [(response_filter(identity), 1)])
    )
    acks = b""
    while len(acks) < len(CONNACK_AND_SUBACK):  # the last thing it ever reads
        acks += sock.recv(len(CONNACK_AND_SUBACK) - len(acks))
    assert acks == CONNACK_AND_SUBACK
    prompt = encode_prompt(Prompt(str(uuid.uuid4()), "a long one"))
    sock.sendall(encode_publish(prompt_topic(identity), prompt))
    return sock


def test_a_subscriber_that_stops_reading_slows_nobody_and_is_let_go(
    stack: tuple[RunningLocalcore, Target],
) -> None:
    """While the stuck client's answer streams, another user's answer arrives whole and on time; every
    Lambda invocation finishes; the broker closes the stuck connection within 1.5 x its keep-alive (plus a
    second of slack) and keeps nothing for it (clean session)."""
    core, target = stack
    broker = core.core.broker
    identity = f"us-east-1:{uuid.uuid4()}"
    stuck = stuck_subscriber(core.mqtt_port, identity)
    started = time.monotonic()
    connection = next(c for c in broker.connections if c.protocol.client_id == identity)
    try:
        with Client(new_user(target)) as chat:
            answer = chat.ask("meanwhile").wait()
        took = time.monotonic() - started
        assert answer.text == SCRIPT
        assert took < 3 * len(SCRIPT.split()) / TOKENS_PER_S, f"{took:.1f} s for a 2 s answer"
        core.wait_lambdas_idle()
        left = started + 1.5 * KEEP_ALIVE_S + 1 - time.monotonic()
        core.thread.run(asyncio.wait_for(connection.closed.wait(), max(0.1, left)))
        assert identity not in broker.sessions
    finally:
        stuck.close()
