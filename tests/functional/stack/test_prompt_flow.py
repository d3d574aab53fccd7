"""The main path through localcore: paho publishes a prompt, the rule invokes the prompt Lambda, which streams
the answer back through iot-data to the user's response topic."""

from __future__ import annotations

import json
import time
import uuid

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.wire import decode_event, prompt_topic, response_filter
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore


def collect_stream(client: MqttTestClient, timeout: float = 30.0) -> StreamAssembler:
    """Feed every received response event to an assembler until the terminal event."""
    assembler = StreamAssembler()
    seen = 0
    deadline = time.monotonic() + timeout
    while not assembler.done:
        remaining = deadline - time.monotonic()
        received = client.expect(seen + 1, timeout=max(remaining, 0.1))
        for message in received[seen:]:
            assembler.feed_payload(message.payload, time.monotonic())
        seen = len(received)
    return assembler


def test_prompt_streams_back_to_the_user(stack: RunningLocalcore, script: str) -> None:
    """docs/architecture.md flow: chat/{id}/prompt -> rule iotstream_prompt -> Lambda -> chat/{id}/response/{rid}."""
    user = f"us-east-1:{uuid.uuid4()}"
    rid = str(uuid.uuid4())
    with MqttTestClient(stack.mqtt_port, client_id=user, username=user) as client:
        client.connect()
        assert client.subscribe([(response_filter(user), 1)]) == [1]
        client.publish(prompt_topic(user), json.dumps({"v": 1, "rid": rid, "text": "hello"}), qos=1)
        assembler = collect_stream(client)
    assert assembler.text == script
    events = [decode_event(m.payload) for m in client.received]
    assert all(m.topic == f"chat/{user}/response/{rid}" for m in client.received)
    assert type(events[0]).__name__ == "Start"
    assert type(assembler.terminal).__name__ == "End"
