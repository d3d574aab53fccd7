"""Client reassembly: AWS IoT does not guarantee order and QoS 1 may duplicate
(AWS IoT developer guide, mqtt.html "Message ordering" / "QoS"), so clients reorder by seq."""

from __future__ import annotations

import random

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.wire import Delta, End, Error, Event, Start, Usage, encode_event

RID = "6f1c1b9e-3d1c-4c1e-9a55-0c1c7c7e2b10"


def stream(words: list[str]) -> list[Event]:
    events: list[Event] = [Start(rid=RID, seq=0, model="m", ts=0)]
    events += [Delta(rid=RID, seq=i + 1, text=w) for i, w in enumerate(words)]
    events.append(End(rid=RID, seq=len(words) + 1, stop="end_turn", usage=Usage(1, len(words))))
    return events


def test_shuffled_and_duplicated_events_reassemble_exactly() -> None:
    """Any delivery order with duplicates yields the text once, in order, and exactly one terminal."""
    words = [f"w{i} " for i in range(50)]
    events = stream(words)
    delivered = events + random.Random(7).sample(events, 20)
    random.Random(42).shuffle(delivered)
    assembler = StreamAssembler(rid=RID)
    released: list[Event] = []
    for event in delivered:
        released += assembler.feed(event, now=0.0)
    assert released == events
    assert assembler.text == "".join(words)
    assert assembler.done and isinstance(assembler.terminal, End)
    assert assembler.stats.duplicates == 20


def test_gap_holds_back_later_events_until_filled() -> None:
    """A missing seq is reported as a gap and nothing after it is released until it arrives."""
    events = stream(["a", "b", "c"])
    assembler = StreamAssembler()
    assert assembler.feed(events[0], 0.0) == [events[0]]
    assert assembler.feed(events[2], 0.1) == []
    assert assembler.feed(events[4], 0.2) == []
    assert assembler.missing == [1, 3]
    assert not assembler.done
    assert assembler.feed(events[1], 0.3) == [events[1], events[2]]
    assert assembler.missing == [3]
    assert assembler.feed(events[3], 0.4) == [events[3], events[4]]
    assert assembler.done and assembler.missing == []


def test_idle_timeout_is_reported_with_the_gap() -> None:
    """With a gap that never fills, the client gives up after the idle timeout with a clear error."""
    events = stream(["a", "b"])
    assembler = StreamAssembler(rid=RID, idle_timeout=5.0, now=100.0)
    assembler.feed(events[0], 100.0)
    assembler.feed(events[2], 101.0)
    assert assembler.check_idle(105.9) is None
    timeout = assembler.check_idle(106.0)
    assert timeout is not None
    assert timeout.code == "idle_timeout" and timeout.missing == [1] and timeout.next_seq == 1
    assert "missing seq [1]" in timeout.message
    assert assembler.feed(events[1], 107.0) == []  # too late: the stream already failed


def test_completed_stream_never_times_out_and_ignores_late_duplicates() -> None:
    """After the terminal event, duplicates (QoS 1 redelivery) change nothing."""
    events = stream(["x"])
    assembler = StreamAssembler(idle_timeout=1.0)
    for event in events:
        assembler.feed(event, 0.0)
    assert assembler.check_idle(99.0) is None
    assert assembler.feed(events[1], 99.0) == []
    assert assembler.text == "x"


def test_foreign_rid_and_events_after_the_terminal_are_ignored() -> None:
    """Events of another request, or numbered past the terminal event, are not part of this stream."""
    assembler = StreamAssembler(rid=RID)
    assert assembler.feed(Delta(rid="other", seq=0, text="no"), 0.0) == []
    assert assembler.stats.foreign == 1
    assembler.feed(Error(rid=RID, seq=1, code="provider_error", message="m"), 0.0)
    assert assembler.feed(Delta(rid=RID, seq=2, text="late"), 0.0) == []
    released = assembler.feed(Start(rid=RID, seq=0, model="m", ts=0), 0.0)
    assert [type(e).__name__ for e in released] == ["Start", "Error"]
    assert assembler.done and assembler.text == ""


def test_feed_payload_decodes_mqtt_bytes() -> None:
    """Clients feed raw MQTT payloads; the assembler decodes them with the wire codec."""
    assembler = StreamAssembler()
    for event in stream(["hi"]):
        assembler.feed_payload(encode_event(event), 0.0)
    assert assembler.done and assembler.text == "hi"


def test_text_carried_by_start_and_end_is_part_of_the_answer() -> None:
    """Coalescing folds the first text into `start` and the last into `end`; reassembly includes both,
    in seq order, whatever the delivery order."""
    events: list[Event] = [
        Start(rid=RID, seq=0, model="m", ts=0, text="Hello"),
        Delta(rid=RID, seq=1, text=" there"),
        End(rid=RID, seq=2, stop="end_turn", text=", world."),
    ]
    assembler = StreamAssembler(rid=RID)
    for event in reversed(events):
        assembler.feed(event, now=0.0)
    assert assembler.done and assembler.text == "Hello there, world."
