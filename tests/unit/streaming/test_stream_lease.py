"""The request record's lease (iotstream_lambdas.streaming.gate, iotstream_lambdas.streaming.lease, iotstream_lambdas.streaming.takeover) against moto's DynamoDB
server through a real boto3 client. Lambda may deliver an async event more than once and retries a failed
invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a duplicate
must not stream twice, and a retry of an invocation that died mid-stream must end that stream for the client
with an `error` and no gap (docs/protocol.md, "Delivery rules")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.gate import Cancelled, Gate, Interrupted, Opened, Skipped
from iotstream_lambdas.streaming.lease import LeaseTiming
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from iotstream_lambdas.streaming.publisher import CoalescingPublisher, PublisherConfig
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import RequestRecord, StateStore
from iotstream_lambdas.streaming.takeover import closing_events
from iotstream_lambdas.streaming.wire import (
    E_INTERRUPTED,
    Delta,
    End,
    Error,
    Start,
    Usage,
    encode_event,
    response_topic,
)

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

IDENTITY = "us-east-1:2222-bob"
TIMING = LeaseTiming(heartbeat_s=0.5, reserve=4)


class FakeTime:
    """Wall clock and sleep in one: sleeping moves the clock (the gate waits for a lease to run out)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def gate(store: StateStore, time: FakeTime) -> Gate:
    clocked = StateStore(store.client, store.table, wall_clock=time)
    return Gate(clocked, None, TIMING, wall_clock=time, sleep=time.sleep)


def test_a_duplicate_of_a_live_stream_is_skipped(store: StateStore, fake_time: FakeTime) -> None:
    """A second delivery while the owner renews its lease publishes nothing: it waits at most one lease,
    sees the lease renewed and leaves the stream to its owner."""
    rid = str(uuid.uuid4())
    first = gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(first, Opened)

    def owner_renews(seconds: float) -> None:
        fake_time.sleep(seconds)
        assert first.lease.heartbeat(2, 3, 0) == "live"

    second_gate = gate(store, fake_time)
    second_gate.sleep = owner_renews
    assert second_gate.open(IDENTITY, rid, "m", None, 60_000) == Skipped("live")


def test_an_answered_rid_is_skipped_without_waiting(store: StateStore, fake_time: FakeTime) -> None:
    """Once the outcome is recorded, a redelivery is a duplicate at once (idempotency per rid)."""
    rid = str(uuid.uuid4())
    opened = gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(opened, Opened)
    store.write([{"Update": store.finish_update(IDENTITY, rid, opened.lease.owner, "end_turn")}])
    assert gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000) == Skipped("answered")
    assert fake_time.slept == 0


def test_a_dead_owner_is_taken_over_once_its_lease_runs_out(store: StateStore, fake_time: FakeTime) -> None:
    """The owner stops renewing (its invocation died): the next delivery waits for the lease to run out, takes
    the rid over with a conditional write and gets the record's bounds; a third delivery is a duplicate, and
    the dead owner's late heartbeat learns it lost the stream."""
    rid = str(uuid.uuid4())
    opened = gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(opened, Opened)
    assert opened.lease.heartbeat(3, 5, 2) == "live"
    retry = gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(retry, Interrupted)
    assert (retry.record.seq_done, retry.record.seq_limit, retry.record.feed_n) == (3, 5 + TIMING.reserve, 2)
    assert TIMING.lease_ms / 1000 - 1 <= fake_time.slept <= TIMING.lease_ms / 1000 + 1
    assert store.request_status(IDENTITY, rid) == f"error:{E_INTERRUPTED}"
    assert gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000) == Skipped("answered")
    assert opened.lease.heartbeat(4, 6, 2) == "lost" and opened.lease.lost
    assert not opened.lease.reserve(100, 6)


def test_a_cancel_before_the_prompt_is_answered_as_cancelled(store: StateStore, fake_time: FakeTime) -> None:
    """The cancel function may flag a rid before its prompt arrives (docs/protocol.md, "Cancel"): the gate
    records it as cancelled instead of streaming, and the heartbeat of a running stream reads the flag."""
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    store.set_cancelled(IDENTITY, early)
    assert isinstance(gate(store, fake_time).open(IDENTITY, early, "m", None, 60_000), Cancelled)
    assert store.request_status(IDENTITY, early) == "cancelled"
    opened = gate(store, fake_time).open(IDENTITY, late, "m", None, 60_000)
    assert isinstance(opened, Opened)
    store.set_cancelled(IDENTITY, late)
    assert opened.lease.heartbeat(1, 1, 0) == "cancelled"


def test_the_closing_events_end_any_partial_stream_without_a_gap() -> None:
    """Whatever the dead attempt published within its reservation (`seq_done` <= n <= `seq_limit`), its
    placeholders and the `error` complete the client's stream: text kept, duplicates dropped, no gap."""
    rid = str(uuid.uuid4())
    published: list[Start | Delta] = [Start(rid=rid, seq=0, model="m", ts=1, text="Hello")]
    published += [Delta(rid=rid, seq=1, text=" world"), Delta(rid=rid, seq=2, text="!")]
    record = RequestRecord("streaming", "dead", 0, 1, 5, 3, "m", 0, False)
    for delivered in (published[:1], published[:2], published):
        assembler = StreamAssembler(rid=rid)
        for event in [*delivered, *closing_events(rid, record)]:
            assembler.feed_payload(encode_event(event), now=0.0)
        assert assembler.done and not assembler.missing
        assert isinstance(assembler.terminal, Error) and assembler.terminal.code == E_INTERRUPTED
        assert assembler.text == "".join(e.text for e in delivered)


def test_the_publisher_renews_its_reservation_and_stops_when_taken_over(
    iot_sink: IotDataSink, store: StateStore, fake_time: FakeTime
) -> None:
    """Per-token publishing runs past the reservation (4 events here): the publisher renews it itself and
    goes on; once another attempt took the rid over it publishes nothing more, not even an error."""
    rid = str(uuid.uuid4())
    opened = gate(store, fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(opened, Opened)
    config = PublisherConfig(coalesce=False, max_messages_per_second=0)
    publisher = CoalescingPublisher(iot_sink.client(), IDENTITY, rid, config, reserve=opened.lease.reserve)
    publisher.start("m")
    for word in ("a", " b", " c", " d", " e", " f"):
        publisher.add_text(word)
    publisher.end("end_turn", Usage(1, 6))
    assert publisher.close(timeout=10)
    assert store.read_request(IDENTITY, rid).seq_limit >= 7  # type: ignore[union-attr]

    taken = str(uuid.uuid4())
    second = gate(store, fake_time).open(IDENTITY, taken, "m", None, 60_000)
    assert isinstance(second, Opened)
    fake_time.now += TIMING.lease_ms / 1000 + 1
    assert isinstance(gate(store, fake_time).open(IDENTITY, taken, "m", None, 60_000), Interrupted)
    zombie = CoalescingPublisher(iot_sink.client(), IDENTITY, taken, config, reserve=second.lease.reserve)
    zombie.start("m")
    for word in ("x", " y", " z", " w", " v", " u"):
        zombie.add_text(word)
    zombie.end("end_turn", Usage(1, 6))
    assert not zombie.close(timeout=10)
    events = iot_sink.events(response_topic(IDENTITY, taken))
    assert [e.seq for e in events] == list(range(len(events))) and len(events) <= TIMING.reserve + 1
    assert not any(isinstance(e, End | Error) for e in events)


def test_service_ends_a_dead_attempts_stream_on_redelivery(
    iot_sink: IotDataSink, store: StateStore, fake_time: FakeTime
) -> None:
    """The retry of an invocation that died mid-stream (here: it published `start` and stopped renewing)
    publishes the placeholders and `error` `stream_interrupted`; the client's stream completes with the text
    it had."""
    rid = str(uuid.uuid4())
    clocked = StateStore(store.client, store.table, wall_clock=fake_time)
    dead = Gate(clocked, None, TIMING, wall_clock=fake_time).open(IDENTITY, rid, "m", None, 60_000)
    assert isinstance(dead, Opened)
    topic = response_topic(IDENTITY, rid)
    client = iot_sink.client()
    client.publish(
        topic=topic, qos=1, payload=encode_event(Start(rid=rid, seq=0, model="m", ts=1, text="Hi"))
    )
    assert dead.lease.heartbeat(1, 1, 0) == "live"
    service = StreamingService(
        client,
        clocked,
        ScriptedProvider(text="never used"),
        ServiceConfig(publisher=PublisherConfig(max_messages_per_second=0)),
        sleep=fake_time.sleep,
    )
    outcome = service.handle_prompt(
        {"v": 1, "rid": rid, "text": "Hi", "identity_id": IDENTITY}, lambda: 60_000
    )
    assert outcome.status == "interrupted" and fake_time.slept > 0
    assembler = StreamAssembler(rid=rid)
    for payload in [m.payload for m in iot_sink.on(topic)]:
        assembler.feed_payload(payload, now=0.0)
    assert assembler.done and assembler.text == "Hi"
    assert isinstance(assembler.terminal, Error) and assembler.terminal.code == E_INTERRUPTED
