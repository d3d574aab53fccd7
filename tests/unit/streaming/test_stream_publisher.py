"""Coalescing publisher against a real iot-data Publish endpoint (`POST /topics/{topic}`, AWS IoT API
`API_iotdata_Publish`), reached through a real boto3 client. Caps keep a stream under AWS IoT's
per-connection quotas (100 publishes/s, 128 KB payload; AWS IoT Core endpoints and quotas)."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from iotstream_lambdas.streaming.errors import PublishError
from iotstream_lambdas.streaming.llm.base import GenerationParams, TextChunk
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from iotstream_lambdas.streaming.publisher import CoalescingPublisher, PublisherConfig
from iotstream_lambdas.streaming.wire import (
    Delta,
    End,
    Error,
    Event,
    Start,
    Usage,
    event_text,
    is_terminal,
    response_topic,
)

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

IDENTITY = "us-east-1:0000-user"


def run_stream(
    sink: IotDataSink, config: PublisherConfig, tokens: list[str], tokens_per_s: float = 0
) -> CoalescingPublisher:
    """Feed `tokens` from a scripted model (optionally timed) through a publisher and wait for the end."""
    rid = str(uuid.uuid4())
    publisher = CoalescingPublisher(sink.client(), IDENTITY, rid, config)
    publisher.start("scripted")
    model = ScriptedProvider(text="".join(tokens), tokens_per_s=tokens_per_s)
    for chunk in model.stream([], GenerationParams(max_tokens=10_000)):
        if isinstance(chunk, TextChunk):
            publisher.add_text(chunk.text)
    publisher.end("end_turn", Usage(1, len(tokens)))
    assert publisher.close(timeout=20)
    return publisher


def assert_well_formed(sink: IotDataSink, publisher: CoalescingPublisher, expected_text: str) -> list[Event]:
    """start first (seq 0), seq +1 each, text in order (deltas, plus start/end when they carry text),
    exactly one terminal and it is last. Returns the events that carry text."""
    events = sink.events(publisher.topic)
    assert [e.seq for e in events] == list(range(len(events)))
    assert isinstance(events[0], Start)
    assert sum(is_terminal(e) for e in events) == 1 and is_terminal(events[-1])
    assert "".join(event_text(e) for e in events) == expected_text
    assert all(m.qos == 1 for m in sink.on(publisher.topic))
    return [e for e in events if event_text(e)]


def test_coalescing_sends_at_least_5x_fewer_messages_than_per_token(iot_sink: IotDataSink) -> None:
    """A model at 400 tokens/s: per-token publishing sends one message per token (plus start and end);
    coalescing with the default policy sends at least 5x fewer messages in all, never above the rate cap."""
    tokens = [f" word{i}" for i in range(200)]
    per_token = run_stream(iot_sink, PublisherConfig(coalesce=False, max_messages_per_second=0), tokens)
    coalesced = run_stream(iot_sink, PublisherConfig(), tokens, tokens_per_s=400)
    per_token_text = assert_well_formed(iot_sink, per_token, "".join(tokens))
    assert_well_formed(iot_sink, coalesced, "".join(tokens))
    assert len(per_token_text) == 200 and per_token.metrics.messages == 202
    times = coalesced.metrics.publish_times
    assert len(times) <= (times[-1] - times[0]) * 20 + 1
    assert len(iot_sink.on(per_token.topic)) >= 5 * len(iot_sink.on(coalesced.topic))
    assert coalesced.metrics.chunks == 200 and len(coalesced.metrics.added_latency_s) == 200


def started(sink: IotDataSink, config: PublisherConfig) -> CoalescingPublisher:
    publisher = CoalescingPublisher(sink.client(), IDENTITY, str(uuid.uuid4()), config)
    publisher.start("m")
    return publisher


def test_batch_goes_once_max_batch_tokens_wait(iot_sink: IotDataSink) -> None:
    """Count trigger: with a long latency budget, the batch is published as soon as max_batch_tokens wait."""
    publisher = started(iot_sink, PublisherConfig(latency_budget_s=30, max_batch_tokens=3, start_hold_s=0))
    for word in ("a", " b", " c"):
        publisher.add_text(word)
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 2)
    assert [event_text(e) for e in iot_sink.events(publisher.topic)] == [
        "",
        "a b c",
    ]  # start_hold_s=0: bare start
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)


def test_latency_budget_flushes_when_the_model_stalls(iot_sink: IotDataSink) -> None:
    """Timer trigger: one token and then silence is still published once it has waited the latency budget."""
    publisher = started(iot_sink, PublisherConfig(latency_budget_s=0.05, start_hold_s=0))
    publisher.add_text("lonely")
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 2)
    assert [event_text(e) for e in iot_sink.events(publisher.topic)] == ["", "lonely"]
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)


def test_start_carries_the_first_text_and_end_the_last(iot_sink: IotDataSink) -> None:
    """Folding saves two messages per answer: the first text rides on `start`, text still waiting when the
    model finishes rides on `end` (wire protocol v1, optional `text` on start and end)."""
    publisher = started(iot_sink, PublisherConfig(latency_budget_s=30, start_hold_s=30, max_batch_tokens=0))
    publisher.add_text("Hello")
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 1)
    publisher.add_text(" there")
    publisher.add_text(" again")
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)
    events = iot_sink.events(publisher.topic)
    assert [type(e) for e in events] == [Start, End]
    assert [event_text(e) for e in events] == ["Hello", " there again"]


def test_the_first_text_is_not_held_for_coalescing(iot_sink: IotDataSink) -> None:
    """What a user waits for most is the first text: it leaves on `start` as soon as it is there, although
    the latency budget and the start hold would allow waiting (coalescing starts after it). Timed on the
    publisher's own clock: `added_latency` is from `add_text` until the publish carrying it returned."""
    publisher = started(iot_sink, PublisherConfig(latency_budget_s=30, start_hold_s=30, max_batch_tokens=0))
    publisher.add_text("First")
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 1)
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)
    assert [event_text(e) for e in iot_sink.events(publisher.topic)] == ["First", ""]
    assert publisher.metrics.added_latency_s[0] < 5  # not the 30 s the budget and the hold would allow


def test_rate_cap_spaces_publishes(iot_sink: IotDataSink) -> None:
    """No two messages of one stream start closer than 1/rate seconds (here 50/s → 20 ms)."""
    tokens = [f" t{i}" for i in range(100)]
    publisher = run_stream(iot_sink, PublisherConfig(max_messages_per_second=50), tokens, tokens_per_s=1000)
    assert_well_formed(iot_sink, publisher, "".join(tokens))
    times = publisher.metrics.publish_times
    assert len(times) >= 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / 50 - 1e-9


def test_byte_cap_splits_large_text_on_character_boundaries(iot_sink: IotDataSink) -> None:
    """Every payload stays within max_message_bytes (AWS IoT rejects payloads over 128 KB), escaping
    and multi-byte UTF-8 included, and the pieces join back to the exact text."""
    text = ('quote " backslash \\ newline \n ✓ é 日本 ' * 400)[:12_000]
    publisher = run_stream(
        iot_sink, PublisherConfig(max_message_bytes=1024, max_messages_per_second=0), [text]
    )
    deltas = assert_well_formed(iot_sink, publisher, text)
    assert len(deltas) >= 12
    assert max(len(m.payload) for m in iot_sink.on(publisher.topic)) <= 1024


def test_sentence_end_flushes_early(iot_sink: IotDataSink) -> None:
    """With a long latency budget, text waits for more, but a finished sentence is published at once
    (once sentence_min_tokens chunks wait, so short sentences cannot break the message ratio)."""
    rid = str(uuid.uuid4())
    config = PublisherConfig(
        latency_budget_s=30, start_hold_s=0, flush_on_sentence=True, sentence_min_tokens=2
    )
    publisher = CoalescingPublisher(iot_sink.client(), IDENTITY, rid, config)
    publisher.start("m")
    publisher.add_text("Hello")
    publisher.add_text(" world.")
    topic = response_topic(IDENTITY, rid)
    iot_sink.wait_until(lambda msgs: sum(m.topic == topic for m in msgs) >= 2)
    assert [event_text(e) for e in iot_sink.events(topic)] == ["", "Hello world."]
    publisher.add_text(" And")
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)  # the terminal takes the waiting text without waiting 30 s
    events = iot_sink.events(topic)
    assert isinstance(events[2], End) and events[2].text == " And" and len(events) == 3


def test_exactly_one_terminal_and_no_text_after_it(iot_sink: IotDataSink) -> None:
    """The first terminal wins; later end/fail calls are ignored and text after it is refused."""
    publisher = CoalescingPublisher(iot_sink.client(), IDENTITY, str(uuid.uuid4()))
    publisher.start("m")
    publisher.add_text("partial")
    publisher.fail("provider_error", "The model failed.")
    publisher.end("end_turn", Usage())
    with pytest.raises(PublishError):
        publisher.add_text("late")
    assert publisher.close(timeout=10)
    events = iot_sink.events(publisher.topic)
    assert [type(e) for e in events] in ([Start, Delta, Error], [Start, Error])
    assert "".join(event_text(e) for e in events) == "partial"


def test_end_event_carries_publisher_metrics(iot_sink: IotDataSink) -> None:
    """The end event reports messages, bytes, chunks and added latency for dashboards."""
    publisher = run_stream(iot_sink, PublisherConfig(), ["a", " b", " c"])
    end = iot_sink.events(publisher.topic)[-1]
    assert isinstance(end, End)
    assert end.metrics["chunks"] == 3 and end.metrics["messages"] >= 2
    assert "added_latency_p99_ms" in end.metrics
    assert json.loads(iot_sink.on(publisher.topic)[-1].payload)["type"] == "end"


def no_retry_client(sink: IotDataSink) -> object:
    return boto3.client(
        "iot-data",
        endpoint_url=sink.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def test_transient_publish_failure_is_retried(iot_sink: IotDataSink) -> None:
    """An InternalFailureException (HTTP 500, a modelled Publish error) is retried; nothing is lost."""
    iot_sink.fail_next = 1
    config = PublisherConfig(publish_attempts=3, retry_backoff_s=0.001)
    publisher = CoalescingPublisher(no_retry_client(iot_sink), IDENTITY, str(uuid.uuid4()), config)  # type: ignore[arg-type]
    publisher.start("m")
    publisher.add_text("kept")
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)
    assert_well_formed(iot_sink, publisher, "kept")


def test_persistent_publish_failure_stops_the_stream(iot_sink: IotDataSink) -> None:
    """When AWS keeps failing, the publisher stops and reports a PublishError instead of hanging."""
    iot_sink.fail_next = 1000
    config = PublisherConfig(publish_attempts=2, retry_backoff_s=0.001)
    publisher = CoalescingPublisher(no_retry_client(iot_sink), IDENTITY, str(uuid.uuid4()), config)  # type: ignore[arg-type]
    publisher.start("m")
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10) is False
    assert publisher.failed is not None and publisher.failed.code == "publish_failed"


def test_a_failed_delta_still_ends_the_stream_with_an_error(iot_sink: IotDataSink) -> None:
    """docs/protocol.md: exactly one terminal event per request. When a delta cannot be published (AWS throttling or
    failing past the retries), the stream still ends: an `error` at that delta's seq, so no gap is left."""
    config = PublisherConfig(publish_attempts=2, retry_backoff_s=0.001, start_hold_s=0)
    publisher = CoalescingPublisher(no_retry_client(iot_sink), IDENTITY, str(uuid.uuid4()), config)  # type: ignore[arg-type]
    publisher.start("m")
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 1)
    iot_sink.fail_next = 2  # both attempts of the next message fail, then AWS recovers
    publisher.add_text("lost")
    assert publisher.close(timeout=10) is False
    events = iot_sink.events(publisher.topic)
    assert [type(e).__name__ for e in events] == ["Start", "Error"]
    assert [e.seq for e in events] == [0, 1] and events[1].code == "publish_failed"


def test_coalescing_knobs_come_from_the_environment() -> None:
    """docs/streaming.md: PUBLISH_* variables of the prompt function set the publisher; unset means default."""
    from iotstream_lambdas.streaming.config import service_config_from_env

    env = {
        "PUBLISH_MAX_PER_SECOND": "10",
        "PUBLISH_LATENCY_BUDGET_MS": "120",
        "PUBLISH_MAX_BATCH_TOKENS": "12",
        "PUBLISH_START_HOLD_MS": "0",
        "PUBLISH_MAX_BYTES": "2048",
    }
    config = service_config_from_env(env).publisher
    assert config == PublisherConfig(
        max_messages_per_second=10,
        latency_budget_s=0.12,
        max_batch_tokens=12,
        start_hold_s=0,
        max_message_bytes=2048,
    )
    assert service_config_from_env({}).publisher == PublisherConfig()


def test_batch_goes_when_the_next_token_would_miss_the_latency_budget(iot_sink: IotDataSink) -> None:
    """Pace trigger, on an injected clock: tokens 20 ms apart with a 90 ms budget. After the 5th token (the
    oldest has waited 80 ms) the 6th would come at 100 ms, past the budget, so the five go at once:
    5 tokens per message, oldest held 80 ms (docs/streaming.md, the 50 tokens/s case)."""
    now = [0.0]
    config = PublisherConfig(
        latency_budget_s=0.09, max_batch_tokens=0, start_hold_s=0, max_messages_per_second=0
    )
    publisher = CoalescingPublisher(
        iot_sink.client(), IDENTITY, str(uuid.uuid4()), config, clock=lambda: now[0]
    )
    publisher.start("m")
    words = [f" w{i}" for i in range(10)]
    for index, word in enumerate(words[:5]):
        now[0] = index * 0.02
        publisher.add_text(word)
    iot_sink.wait_until(lambda msgs: sum(m.topic == publisher.topic for m in msgs) >= 2)
    for index, word in enumerate(words[5:], start=5):
        now[0] = index * 0.02
        publisher.add_text(word)
    publisher.end("end_turn", Usage())
    assert publisher.close(timeout=10)
    texts = [event_text(e) for e in iot_sink.events(publisher.topic)]
    assert texts[:2] == ["", "".join(words[:5])] and "".join(texts) == "".join(words)
