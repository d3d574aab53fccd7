"""The dashboard feed: status updates per stream on `dashboard/streams/{shard}`, published through a real boto3
iot-data client (AWS IoT API `API_iotdata_Publish`) to a local Publish endpoint.

Why sharded status updates: AWS IoT Core delivers at most 100 publishes/s per connection and discards the
excess (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits), so a stream
costs a dashboard connection about `2 + duration / interval` messages instead of every delta.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
import zlib
from typing import TYPE_CHECKING

import pytest

from iotstream_lambdas.streaming.config import service_config_from_env
from iotstream_lambdas.streaming.dashboard_feed import DashboardFeed, FeedConfig, Progress, StreamFeed
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider, split_tokens
from iotstream_lambdas.streaming.publisher import PublisherConfig
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.status import (
    FeedView,
    StreamStatus,
    dashboard_shards,
    dashboard_topic,
    decode_status,
    encode_status,
    shard_of,
)
from iotstream_lambdas.streaming.wire import End, response_topic

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

IDENTITY = "us-east-1:1111-alice"
TEXT = " ".join(f"word{i}." if i % 9 == 8 else f"word{i}" for i in range(60))
EPOCH = 1_732_368_000.0


def feed_topic(rid: str, shards: int = 8) -> str:
    return dashboard_topic(shard_of(rid, shards))


def updates(sink: IotDataSink, rid: str, shards: int = 8) -> list[StreamStatus]:
    """The rid's updates in the order the sink received them (the feed publishes them one by one)."""
    return [s for s in (decode_status(m.payload) for m in sink.on(feed_topic(rid, shards))) if s.rid == rid]


def service(
    sink: IotDataSink, store: StateStore, provider: ScriptedProvider, **feed: float
) -> StreamingService:
    config = ServiceConfig(publisher=PublisherConfig(max_messages_per_second=0), feed=FeedConfig(**feed))  # type: ignore[arg-type]
    return StreamingService(sink.client(), store, provider, config)


def prompt(rid: str, text: str = "Hi") -> dict[str, object]:
    return {"v": 1, "rid": rid, "text": text, "identity_id": IDENTITY}


def test_status_round_trips_and_leaves_unknown_numbers_out() -> None:
    """docs/protocol.md, "Dashboard feed" (message): `ttft_ms`/`tokens_per_s` are absent (not null) until known, `stop` only on `end`,
    `code` only on `error`; the shard is CRC-32 of the rid modulo the shard count."""
    rid = str(uuid.uuid4())
    started = StreamStatus(rid, IDENTITY, 0, "started", "m", 1, 1, 0, 0)
    body = json.loads(encode_status(started))
    assert body == {
        "v": 1,
        "type": "status",
        "rid": rid,
        "identity": IDENTITY,
        "n": 0,
        "state": "started",
        "model": "m",
        "started": 1,
        "ts": 1,
        "tokens": 0,
        "messages": 0,
    }
    ended = StreamStatus(rid, IDENTITY, 3, "end", "m", 1, 9, 42, 9, 180.2, 55.1, stop="end_turn")
    assert decode_status(encode_status(ended)) == ended and ended.final
    assert feed_topic(rid) == f"dashboard/streams/{zlib.crc32(rid.encode()) % 8}"
    for bad in (b"[]", b"{}", b'{"v":1,"type":"delta"}', json.dumps({**body, "state": "odd"}).encode()):
        with pytest.raises(ProtocolError):
            decode_status(bad)


def test_feed_view_keeps_the_newest_update_per_rid() -> None:
    """AWS IoT may deliver QoS 1 messages more than once and out of order (mqtt.html); the highest `n` wins,
    so a duplicate or a late older update never replaces a newer or final one."""
    rid = str(uuid.uuid4())
    first = StreamStatus(rid, IDENTITY, 0, "started", "m", 1, 1, 0, 0)
    middle = StreamStatus(rid, IDENTITY, 1, "streaming", "m", 1, 2, 5, 2)
    last = StreamStatus(rid, IDENTITY, 2, "end", "m", 1, 3, 9, 3, stop="end_turn")
    view = FeedView()
    assert [view.apply(s) for s in (middle, last, first, middle, last)] == [True, True, False, False, False]
    assert view.streams[rid] == last and view.finished() == [last] and view.live() == []


def test_updates_follow_the_injected_clock_and_skip_unchanged_intervals(iot_sink: IotDataSink) -> None:
    """On an injected clock that moves one interval per reading, the feed checks once per interval and
    publishes only when the progress changed; the final update goes at once, with the final numbers."""
    ticks = itertools.count()
    feed = DashboardFeed(
        iot_sink.client(),
        FeedConfig(interval_s=1.0),
        clock=lambda: float(next(ticks)),
        wall_clock=lambda: EPOCH,
    )
    script = iter([Progress(3, 1), Progress(3, 1), Progress(7, 2, 120.0), Progress(7, 2, 120.0)])
    opened = threading.Event()
    holder: list[StreamFeed] = []
    ended = [False]

    def progress() -> Progress:
        """The scripted steps, then (unchanged) the stream ends; the final update reads the final numbers."""
        opened.wait(10)
        if ended[0]:
            return Progress(9, 3, 120.0, 40.0)
        step = next(script, None)
        if step is None:
            ended[0] = True
            holder[0].end("end_turn")
            return Progress(7, 2, 120.0)
        return step

    rid = str(uuid.uuid4())
    holder.append(feed.open(IDENTITY, rid, "m", progress))
    opened.set()
    assert holder[0].close(timeout=10)
    got = updates(iot_sink, rid)
    assert [(s.n, s.state, s.tokens, s.messages) for s in got] == [
        (0, "started", 0, 0),
        (1, "streaming", 3, 1),
        (2, "streaming", 7, 2),
        (3, "end", 9, 3),
    ]
    assert got[-1].stop == "end_turn" and got[-1].tokens_per_s == 40.0 and got[1].ttft_ms is None
    assert {(s.started, s.ts) for s in got} == {(int(EPOCH * 1000), int(EPOCH * 1000))}
    assert all(m.qos == 1 for m in iot_sink.on(feed_topic(rid)))


def test_a_stream_reports_started_streaming_end(iot_sink: IotDataSink, store: StateStore) -> None:
    """A scripted model at 200 tokens/s for 60 tokens (~0.3 s) with a 50 ms interval: n counts 0, 1, 2, ...;
    `started` first, `streaming` updates at least one interval apart, one final `end` with the stream's real
    token and message counts; no answer text in the feed."""
    rid = str(uuid.uuid4())
    provider = ScriptedProvider(text=TEXT, tokens_per_s=200)
    outcome = service(iot_sink, store, provider, interval_s=0.05).handle_prompt(prompt(rid), lambda: 300_000)
    assert outcome.outcome == "end_turn"
    got = updates(iot_sink, rid)
    assert [s.n for s in got] == list(range(len(got)))
    assert got[0].state == "started" and got[-1].state == "end" and got[-1].stop == "end_turn"
    streaming = [s for s in got[1:-1]]
    assert streaming and {s.state for s in streaming} == {"streaming"}
    assert all(b.ts - a.ts >= 49 for a, b in itertools.pairwise(got[:-1]))
    duration_ms = got[-1].ts - got[0].ts
    assert len(got) <= 2 + duration_ms / 50 + 1
    user_events = iot_sink.events(response_topic(IDENTITY, rid))
    final = got[-1]
    assert final.tokens == len(split_tokens(TEXT)) and final.messages == len(user_events)
    assert isinstance(user_events[-1], End) and final.ttft_ms == user_events[-1].metrics["ttft_ms"]
    assert final.tokens_per_s is not None and 100 < final.tokens_per_s < 400
    assert {s.identity for s in got} == {IDENTITY} and {s.model for s in got} == {"scripted"}
    assert all(b"word1" not in m.payload for m in iot_sink.on(feed_topic(rid)))


def test_a_provider_error_ends_the_feed_with_its_code(iot_sink: IotDataSink, store: StateStore) -> None:
    """A stream that ends with an `error` event ends its feed with `state: error` and the same code."""
    rid = str(uuid.uuid4())
    provider = ScriptedProvider(text=TEXT, fail_after=3)
    service(iot_sink, store, provider).handle_prompt(prompt(rid), lambda: 300_000)
    final = updates(iot_sink, rid)[-1]
    assert (final.state, final.code, final.stop) == ("error", "provider_error", None)


def test_a_rejected_prompt_with_a_usable_rid_gets_one_error_update(
    iot_sink: IotDataSink, store: StateStore
) -> None:
    """docs/protocol.md, "Dashboard feed": rejected prompts that have a usable rid end with `error` (one update, n 0); without a usable
    rid there is nothing to report on."""
    rid = str(uuid.uuid4())
    feeding = service(iot_sink, store, ScriptedProvider())
    feeding.handle_prompt({"v": 1, "rid": rid, "identity_id": IDENTITY}, lambda: 300_000)
    (only,) = updates(iot_sink, rid)
    assert (only.n, only.state, only.code, only.messages) == (0, "error", "missing_field", 1)
    feeding.handle_prompt({"v": 1, "text": "no rid", "identity_id": IDENTITY}, lambda: 300_000)
    assert not [m for m in iot_sink.messages if m.topic.startswith("dashboard/")][1:]


def test_a_failing_feed_never_affects_the_users_stream(
    iot_sink: IotDataSink, store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Every feed publish fails (iot-data 500 InternalFailureException): the user's answer is complete and
    the failures are logged, never raised."""
    iot_sink.fail_prefix = "dashboard/"
    rid = str(uuid.uuid4())
    feeding = service(iot_sink, store, ScriptedProvider(text=TEXT), retry_backoff_s=0.001)
    outcome = feeding.handle_prompt(prompt(rid), lambda: 300_000)
    assert outcome.outcome == "end_turn" and outcome.text == TEXT
    assert isinstance(iot_sink.events(response_topic(IDENTITY, rid))[-1], End)
    assert updates(iot_sink, rid) == []
    warned = [r for r in caplog.records if r.getMessage() == "dashboard feed update not published"]
    assert [getattr(r, "state", None) for r in warned] == ["started", "end"]


def test_a_stuck_feed_never_delays_the_users_stream(iot_sink: IotDataSink, store: StateStore) -> None:
    """Feed publishes that hang (the endpoint holds them) do not hold back a single event of the user's
    stream: the whole answer, `end` included, is delivered while every feed publish is still waiting."""
    iot_sink.hold_prefix = "dashboard/"
    rid = str(uuid.uuid4())
    feeding = service(iot_sink, store, ScriptedProvider(text=TEXT))
    worker = threading.Thread(target=feeding.handle_prompt, args=(prompt(rid), lambda: 300_000))
    worker.start()
    topic = response_topic(IDENTITY, rid)
    iot_sink.wait_until(lambda msgs: any(m.topic == topic and b'"type":"end"' in m.payload for m in msgs))
    assert updates(iot_sink, rid) == []
    iot_sink.released.set()
    worker.join(timeout=20)
    assert not worker.is_alive()
    iot_sink.wait_until(lambda msgs: any(b'"state":"end"' in m.payload for m in msgs))
    assert updates(iot_sink, rid)[-1].state == "end"


def test_shards_and_interval_come_from_the_environment() -> None:
    """DASHBOARD_SHARDS (default 8) and DASHBOARD_INTERVAL_MS (default 1000), as lambdas/iotstream_lambdas/functions.json sets."""
    assert service_config_from_env({}).feed == FeedConfig(shards=8, interval_s=1.0)
    env = {"DASHBOARD_SHARDS": "16", "DASHBOARD_INTERVAL_MS": "250"}
    assert service_config_from_env(env).feed == FeedConfig(shards=16, interval_s=0.25)
    for bad in ("0", "-1", "eight"):
        with pytest.raises(ValueError, match="DASHBOARD_SHARDS"):
            dashboard_shards({"DASHBOARD_SHARDS": bad})


def test_a_burst_of_tokens_has_no_rate_yet():
    """tokens/s needs tokens spread over at least RATE_MIN_WINDOW_S: 24 tokens within 2 ms would read as
    ~12,000 tokens/s on a dashboard, which says nothing about the model."""
    from iotstream_lambdas.streaming.run import RATE_MIN_WINDOW_S, StreamRun

    run = StreamRun(started=0.0, clock=lambda: 0.0, publisher=None)  # type: ignore[arg-type]
    run.first_token_at, run.last_token_at, run.chunks = 0.010, 0.012, 24
    assert run.progress(messages=2).tokens_per_s is None
    run.last_token_at = 0.010 + RATE_MIN_WINDOW_S
    assert run.progress(messages=2).tokens_per_s == round(23 / RATE_MIN_WINDOW_S, 1)
