"""End to end through localcore with paho-mqtt: prompt on chat/{id}/prompt -> rule -> prompt Lambda ->
iot-data Publish -> broker -> the user's paho client, reassembled by `ChatClient` / `StreamAssembler`."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Iterator

import pytest

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import (
    AWS_IOT_MAX_PAYLOAD_BYTES,
    E_INVALID_JSON,
    E_INVALID_UTF8,
    E_MISSING_FIELD,
    E_TEXT_TOO_LONG,
    End,
    Error,
    Event,
    Start,
    encode_event,
    prompt_topic,
    response_topic,
)
from localcore.broker.message import Message
from localcore.testing import RunningLocalcore
from tests.support.streamkit import connected_user, rule_event, running_stack, runtime, stored_answer

WAIT = 30.0
SCRIPT = (
    "Streaming over MQTT works end to end. Every piece of the answer travels from the model through the "
    "Lambda and the broker, and the client puts it back together in order, even when the network "
    "repeats or reorders messages. The stream always ends with exactly one terminal event."
)


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    with running_stack(
        {"LLM_PROVIDER": "scripted", "SCRIPTED_TEXT": SCRIPT, "SCRIPTED_TOKENS_PER_S": "300"}
    ) as s:
        yield s


def one_stream(events: list[Event], rid: str) -> list[Event]:
    """The events of `rid`, asserting they form exactly one stream: seq 0..n once each, one start, one terminal."""
    mine = [e for e in events if e.rid == rid]
    assert sorted(e.seq for e in mine) == list(range(len(mine))), [e.seq for e in mine]
    assert sum(isinstance(e, Start) for e in mine) == 1
    assert sum(isinstance(e, End | Error) for e in mine) == 1
    return mine


def test_answer_is_reassembled_exactly_as_the_model_produced_it(stack: RunningLocalcore) -> None:
    """docs/protocol.md: concatenating the text in `seq` order gives the answer; the Lambda's own record
    of what the model produced (conversation history in DynamoDB) is the reference."""
    with connected_user(stack) as user:
        events = list(user.chat.ask("hello", conversation="c1"))
    assert isinstance(events[0], Start) and isinstance(events[-1], End) and events[-1].stop == "end_turn"
    assert user.chat.last_stream is not None
    assert user.chat.last_stream.text == SCRIPT == stored_answer(stack, user.identity, "c1")
    assert [e.seq for e in events] == list(range(len(events)))
    assert len(events) < len(SCRIPT.split()) / 3  # coalesced: far fewer messages than tokens


def test_duplicated_and_reordered_delivery_is_repaired_by_the_client(stack: RunningLocalcore) -> None:
    """AWS IoT mqtt.html: the broker does not guarantee order and QoS 1 may deliver a message more than
    once. Captured response events re-published shuffled and duplicated still reassemble to the exact text."""
    with connected_user(stack) as asker:
        rid = str(uuid.uuid4())
        list(asker.chat.ask("hello", rid=rid))
        captured = [p for t, p in asker.recorder.raw if t.endswith(rid)]
    with connected_user(stack, asker.identity, suffix="-replay") as replay:
        stream = replay.chat.follow(rid)
        noisy = captured + random.Random(7).sample(captured, k=len(captured) // 2 + 1)
        random.Random(11).shuffle(noisy)
        if noisy[0] == captured[0]:  # make sure seq 0 is not first, so reordering really happens
            noisy.append(noisy.pop(0))
        topic = response_topic(asker.identity, rid)
        for payload in noisy:
            stack.publish(Message(topic=topic, payload=payload, qos=1))
        events = list(stream)
    assembler = replay.chat.last_stream
    assert assembler is not None and assembler.text == SCRIPT
    assert [e.seq for e in events] == list(range(len(captured)))
    assert assembler.stats.received == len(captured) and assembler.stats.duplicates >= 1


def test_retried_invocation_and_republished_prompt_give_exactly_one_stream(stack: RunningLocalcore) -> None:
    """Lambda async invocations are at-least-once (AWS Lambda invocation-async.html) and QoS 1 prompts may
    arrive twice: the same rid invoked twice, or published twice, produces exactly one stream."""
    with connected_user(stack) as user:
        rid = str(uuid.uuid4())
        payload = json.dumps({"v": 1, "rid": rid, "text": "hi"}).encode()
        event = rule_event(user.identity, payload)
        for _ in range(2):
            stack.thread.run(runtime(stack).invoke_async("prompt", event))
        stack.wait_lambdas_idle()
        republished = str(uuid.uuid4())
        body = json.dumps({"v": 1, "rid": republished, "text": "hi"})
        for _ in range(2):
            user.mqtt.publish(prompt_topic(user.identity), body, qos=1).wait_for_publish(10)
        stack.wait_rules_idle()
        stack.wait_lambdas_idle()
        events = user.recorder.events()
    for request in (rid, republished):
        stream = one_stream(events, request)
        assembler = StreamAssembler(rid=request)
        for e in stream:
            assembler.feed(e, 0.0)
        assert assembler.text == SCRIPT


def test_malformed_prompts_each_get_one_error_while_others_stream(stack: RunningLocalcore) -> None:
    """Bad input gets a clear error and loses nothing: not JSON, a missing field, text over the service's
    limit (16 KB, still under AWS IoT's 128 KB) and invalid UTF-8 each produce exactly one `error` event on
    the sender's response topic, and another user's stream completes meanwhile."""
    too_long_rid = str(uuid.uuid4())
    bad = [
        (b"this is not json", E_INVALID_JSON, "invalid"),
        (json.dumps({"v": 1, "text": "no rid"}).encode(), E_MISSING_FIELD, "invalid"),
        (
            json.dumps({"v": 1, "rid": too_long_rid, "text": "x" * 20_000}).encode(),
            E_TEXT_TOO_LONG,
            too_long_rid,
        ),
        (b'{"v":1,"rid":"' + str(uuid.uuid4()).encode() + b'","text":"\xff\xfe"}', E_INVALID_UTF8, "invalid"),
    ]
    with connected_user(stack) as bob, connected_user(stack) as alice:
        answer: list[Event] = []
        streaming = threading.Thread(target=lambda: answer.extend(bob.chat.ask("meanwhile")))
        streaming.start()
        for count, (payload, _, _) in enumerate(bad, start=1):
            alice.mqtt.publish(prompt_topic(alice.identity), payload, qos=1).wait_for_publish(10)
            alice.recorder.wait_for(lambda events, count=count: len(events) >= count)
        streaming.join(WAIT)
        stack.wait_rules_idle()
        stack.wait_lambdas_idle()
        received = alice.recorder.raw
    events = alice.recorder.events()
    assert len(events) == len(bad) and all(isinstance(e, Error) and e.seq == 0 for e in events)
    assert sorted(
        (e.code, t.rsplit("/", 1)[1]) for e, (t, _) in zip(events, received, strict=True)
    ) == sorted((code, topic_rid) for _, code, topic_rid in bad)
    assert all(isinstance(e, Error) and e.message and "Traceback" not in e.message for e in events)
    assert isinstance(answer[-1], End) and bob.chat.last_stream is not None
    assert bob.chat.last_stream.text == SCRIPT


def test_prompt_over_128_kb_is_refused_locally_and_by_the_broker(stack: RunningLocalcore) -> None:
    """AWS IoT Core quotas: payloads over 128 KB are rejected. `ChatClient.ask` refuses such a prompt before
    publishing; a raw paho publish of it gets the connection closed (MQTT 5 reason 0x95 Packet too large),
    no Lambda runs for it, and another user keeps streaming."""
    huge = "y" * 200_000
    with connected_user(stack) as bob, connected_user(stack) as alice:
        invocations = runtime(stack).stats("prompt").async_events
        with pytest.raises(ProtocolError) as refused:
            alice.chat.ask(huge)
        assert (
            refused.value.code == "payload_too_large"
            and str(AWS_IOT_MAX_PAYLOAD_BYTES) in refused.value.message
        )
        body = json.dumps({"v": 1, "rid": str(uuid.uuid4()), "text": huge})
        alice.mqtt.publish(prompt_topic(alice.identity), body, qos=1)
        assert alice.disconnected.wait(WAIT)
        assert alice.disconnects[0] == 0x95
        events = list(bob.chat.ask("still there?"))
        stack.wait_rules_idle()
        assert runtime(stack).stats("prompt").async_events == invocations + 1
    assert isinstance(events[-1], End) and bob.chat.last_stream is not None
    assert bob.chat.last_stream.text == SCRIPT
    assert alice.recorder.raw == []


def test_unknown_payloads_on_the_response_topic_are_skipped(stack: RunningLocalcore) -> None:
    """Anything on a response topic that is not a v1 event (a dashboard rule, a stray tool) is skipped by the
    client instead of ending the stream."""
    with connected_user(stack) as user:
        rid = str(uuid.uuid4())
        topic = response_topic(user.identity, rid)
        stream = user.chat.follow(rid)
        stack.publish(Message(topic=topic, payload=b"garbage", qos=1))
        stack.publish(
            Message(topic=topic, payload=encode_event(Start(rid=rid, seq=0, model="m", ts=0)), qos=1)
        )
        stack.publish(Message(topic=topic, payload=encode_event(End(rid=rid, seq=1, stop="end_turn")), qos=1))
        events = list(stream)
    assert [type(e) for e in events] == [Start, End] and user.chat.skipped == 1
