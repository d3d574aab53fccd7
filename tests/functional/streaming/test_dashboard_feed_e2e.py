"""The dashboard feed end to end through localcore: a user's prompt -> rule -> prompt Lambda -> iot-data Publish
on `dashboard/streams/{shard}` -> broker -> a dashboard signed in through Cognito (the `dashboard` group) with
one paho connection per shard over SigV4 WebSockets, client ids `{identityId}-dash{k}`.

AWS IoT Core delivers at most 100 publishes/s per connection
(https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits): the feed is sharded so
each connection stays far below it; localcore keeps that limit on here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from clients.config import ClientConfig
from iotstream_lambdas.streaming.status import StreamStatus, dashboard_topic, decode_status, shard_of
from iotstream_lambdas.streaming.wire import End, prompt_topic
from localcore.broker.testing import MqttTestClient, Received
from localcore.testing import RunningLocalcore
from tests.support.session_support import Users, paho_ws
from tests.support.streamkit import connected_user, running_stack

SHARDS = 4
SCRIPT = " ".join(f"token{i}" for i in range(40)) + "."


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    """Scripted model at 100 tokens/s (~0.4 s per answer), a 100 ms feed interval, 4 shards."""
    environment = {
        "LLM_PROVIDER": "scripted",
        "SCRIPTED_TEXT": SCRIPT,
        "SCRIPTED_TOKENS_PER_S": "100",
        "DASHBOARD_SHARDS": str(SHARDS),
        "DASHBOARD_INTERVAL_MS": "100",
    }
    with running_stack(environment) as running:
        yield running


@pytest.fixture(scope="module")
def dashboard(stack: RunningLocalcore) -> Iterator[list[MqttTestClient]]:
    """A dashboard user's connections, connection k subscribed to `dashboard/streams/{k}` (QoS 1)."""
    config = ClientConfig.from_localcore(stack.endpoints)
    session = Users(stack, config).create("board", dashboard=True)
    with ExitStack() as connections:
        clients = []
        for shard in range(config.dashboard_shards):
            client = connections.enter_context(paho_ws(session, client_id=session.client_id(f"dash{shard}")))
            client.connect()
            assert client.subscribe(dashboard_topic(shard), qos=1) == [1]
            clients.append(client)
        yield clients


def statuses(received: list[Received], rid: str) -> list[StreamStatus]:
    return [s for s in (decode_status(m.payload) for m in received) if s.rid == rid]


def final_arrived(rid: str) -> object:
    return lambda received: any(s.final for s in statuses(received, rid))


def test_ready_file_publishes_the_shard_count(stack: RunningLocalcore) -> None:
    """docs/protocol.md, "Dashboard feed" (discovery): localcore's endpoints (the ready file) carry the prompt function's DASHBOARD_SHARDS."""
    assert stack.endpoints["dashboard_shards"] == SHARDS
    assert ClientConfig.from_localcore(stack.endpoints).dashboard_shards == SHARDS


def test_a_dashboard_sees_start_streaming_end_of_a_real_stream(
    stack: RunningLocalcore, dashboard: list[MqttTestClient]
) -> None:
    """The rid's shard connection receives `started`, `streaming` updates and a final `end` (n = 0, 1, 2, ...)
    with the tokens and messages the user actually received; the other connections get nothing of it."""
    with connected_user(stack) as user:
        rid = str(uuid.uuid4())
        events = list(user.chat.ask("hello", rid=rid))
    mine = dashboard[shard_of(rid, SHARDS)]
    got = sorted(statuses(mine.wait_until(final_arrived(rid)), rid), key=lambda s: s.n)
    assert [s.n for s in got] == list(range(len(got)))
    assert got[0].state == "started" and got[-1].state == "end" and got[-1].stop == "end_turn"
    assert "streaming" in {s.state for s in got[1:-1]}
    end = events[-1]
    assert isinstance(end, End)
    assert got[-1].tokens == end.usage.output_tokens and got[-1].messages == len(events)
    assert got[-1].identity == user.identity and got[-1].ttft_ms is not None
    assert all(m.qos == 1 and m.topic == dashboard_topic(shard_of(rid, SHARDS)) for m in mine.received)
    others = [c for k, c in enumerate(dashboard) if k != shard_of(rid, SHARDS)]
    assert not [s for c in others for s in statuses(c.received, rid)]


def test_a_rejected_prompt_shows_as_an_error(
    stack: RunningLocalcore, dashboard: list[MqttTestClient]
) -> None:
    """A prompt without `text` is answered with `error` (missing_field); its rid is usable, so the feed
    reports one final `error` update with the same code."""
    rid = str(uuid.uuid4())
    with connected_user(stack) as user:
        user.mqtt.publish(prompt_topic(user.identity), json.dumps({"v": 1, "rid": rid}), qos=1)
        user.recorder.wait_for(lambda events: any(e.rid == rid for e in events))
    received = dashboard[shard_of(rid, SHARDS)].wait_until(final_arrived(rid))
    (only,) = statuses(received, rid)
    assert (only.n, only.state, only.code) == (0, "error", "missing_field")


def test_a_normal_user_cannot_subscribe_to_the_feed(stack: RunningLocalcore) -> None:
    """iotstream-user allows no filter under dashboard/: SUBACK 0x87 Not authorized (MQTT 5 reason codes)."""
    identity = f"us-east-1:{uuid.uuid4()}"
    with MqttTestClient(stack.mqtt_port, client_id=identity, username=identity).connect() as client:
        assert client.subscribe(dashboard_topic(0), qos=1) == [0x87]
