"""The prompt service end to end: real boto3 clients against moto's DynamoDB server and an
iot-data Publish endpoint. The identity comes only from the rule's `topic(2)`; Lambda's async
invocation may deliver an event more than once (Lambda docs, invocation-async-error-handling), so
each rid streams at most once."""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.llm.base import Chunk, GenerationParams, Message
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider, split_tokens
from iotstream_lambdas.streaming.publisher import PublisherConfig
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import INVALID_RID, End, Error, Start, event_text, response_topic

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

IDENTITY = "us-east-1:1111-alice"
TEXT = "One. Two three four five six seven eight nine ten eleven twelve. Thirteen fourteen."


def always(ms: int = 300_000) -> Any:
    return lambda: ms


def make_service(sink: IotDataSink, store: StateStore, provider: Any, **config: Any) -> StreamingService:
    config.setdefault("publisher", PublisherConfig(max_messages_per_second=0))
    return StreamingService(sink.client(), store, provider, ServiceConfig(**config))


def prompt_event(text: str = "Hi", rid: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "rid": rid or str(uuid.uuid4()), "text": text, **extra, "identity_id": IDENTITY}


def reassemble(sink: IotDataSink, rid: str, identity: str = IDENTITY) -> StreamAssembler:
    """Deliver the published payloads shuffled and duplicated, as AWS IoT may (mqtt.html ordering)."""
    payloads = [m.payload for m in sink.on(response_topic(identity, rid))]
    delivered = payloads + payloads[:2]
    random.Random(1).shuffle(delivered)
    assembler = StreamAssembler(rid=rid)
    for payload in delivered:
        assembler.feed_payload(payload, now=0.0)
    return assembler


def test_prompt_streams_the_whole_answer_in_order(iot_sink: IotDataSink, store: StateStore) -> None:
    """The reassembled deltas equal the model's text; start first, one end last, status recorded."""
    service = make_service(iot_sink, store, ScriptedProvider(text=TEXT))
    event = prompt_event()
    outcome = service.handle_prompt(event, always())
    assert outcome.status == "streamed" and outcome.outcome == "end_turn"
    assembler = reassemble(iot_sink, event["rid"])
    assert assembler.done and assembler.text == TEXT
    events = assembler.events
    assert isinstance(events[0], Start) and events[0].model == "scripted"
    assert isinstance(events[-1], End) and events[-1].stop == "end_turn"
    assert events[-1].usage.output_tokens == len(split_tokens(TEXT))
    assert "ttft_ms" in events[-1].metrics
    assert store.request_status(IDENTITY, event["rid"]) == "end_turn"


def test_retried_event_never_starts_a_second_stream(iot_sink: IotDataSink, store: StateStore) -> None:
    """Async Lambda retries and duplicate deliveries (sequential or concurrent) give exactly one stream."""
    service = make_service(iot_sink, store, ScriptedProvider(text=TEXT))
    event = prompt_event()
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(service.handle_prompt(event, always())))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    outcomes.append(service.handle_prompt(event, always()))
    assert sorted(o.status for o in outcomes) == ["duplicate", "duplicate", "duplicate", "streamed"]
    events = [json.loads(m.payload) for m in iot_sink.on(response_topic(IDENTITY, event["rid"]))]
    assert sum(e["type"] == "start" for e in events) == 1
    assert sum(e["type"] in ("end", "error") for e in events) == 1


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_each_malformed_prompt_gets_one_error_event(iot_sink: IotDataSink, store: StateStore) -> None:
    """A bad prompt is answered with one `error` event: on its rid's topic when the rid is usable,
    else on chat/{id}/response/invalid. The model is never called."""
    service = make_service(iot_sink, store, ScriptedProvider(fail_after=0))
    rid = str(uuid.uuid4())
    cases = [
        ({"payload_base64": b64(b"not json"), "identity_id": IDENTITY}, INVALID_RID, "invalid_json"),
        (
            {"payload_base64": b64(b'{"v":1,"text":"\xff"}'), "identity_id": IDENTITY},
            INVALID_RID,
            "invalid_utf8",
        ),
        ({"payload_base64": b64(b"[1]"), "identity_id": IDENTITY}, INVALID_RID, "not_an_object"),
        ({"v": 1, "text": "hi", "identity_id": IDENTITY}, INVALID_RID, "missing_field"),
        ({"v": 1, "rid": rid, "identity_id": IDENTITY}, rid, "missing_field"),
        ({"v": 1, "rid": rid, "text": "x" * 200_000, "identity_id": IDENTITY}, rid, "text_too_long"),
    ]
    for event, topic_rid, code in cases:
        before = len(iot_sink.on(response_topic(IDENTITY, topic_rid)))
        outcome = service.handle_prompt(event, always())
        assert outcome.status == "rejected" and outcome.outcome == f"error:{code}"
        published = iot_sink.events(response_topic(IDENTITY, topic_rid))[before:]
        assert len(published) == 1
        error = published[0]
        assert isinstance(error, Error) and error.code == code and error.seq == 0 and error.rid == topic_rid
    assert store.request_status(IDENTITY, rid) is None


def test_valid_prompt_in_raw_payload_form_is_answered(iot_sink: IotDataSink, store: StateStore) -> None:
    """With `SELECT encode(*, 'base64') AS payload_base64, topic(2) AS identity_id` the raw payload is parsed here."""
    service = make_service(iot_sink, store, ScriptedProvider(text="ok"))
    rid = str(uuid.uuid4())
    raw = json.dumps({"v": 1, "rid": rid, "text": "hi"}).encode()
    outcome = service.handle_prompt({"payload_base64": b64(raw), "identity_id": IDENTITY}, always())
    assert outcome.outcome == "end_turn" and reassemble(iot_sink, rid).text == "ok"


def test_identity_comes_only_from_the_rule(iot_sink: IotDataSink, store: StateStore) -> None:
    """Without the rule's identity_id there is nowhere safe to answer: nothing is published or streamed."""
    service = make_service(iot_sink, store, ScriptedProvider(text="secret"))
    for event in (
        {"v": 1, "rid": str(uuid.uuid4()), "text": "hi"},
        {**prompt_event(), "identity_id": "a/b"},
        "text",
    ):
        assert service.handle_prompt(event, always()).outcome == "no_identity"
    assert iot_sink.messages == []


@dataclass
class StallingProvider:
    """Scripted text whose model stalls from token `stall_at` until released; runs `on_token` hooks."""

    text: str
    stall_at: int
    hooks: dict[int, Any] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def model(self) -> str:
        return "stalling"

    def _sleep(self, _delay: float, index: int) -> None:
        if index in self.hooks:
            self.hooks[index]()
        if index >= self.stall_at:
            self.release.wait(30)

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        return ScriptedProvider(text=self.text, sleep=self._sleep).stream(messages, params)


def test_cancel_ends_the_stream_within_a_chunk(iot_sink: IotDataSink, store: StateStore) -> None:
    """A cancel on chat/{id}/cancel (via the cancel rule) ends the stream with stop=cancelled, promptly,
    even while the model is stalled; everything produced before it is still delivered."""
    rid = str(uuid.uuid4())
    provider = StallingProvider(TEXT, stall_at=6)
    service = make_service(iot_sink, store, provider, cancel_poll_s=0)
    tokens = split_tokens(TEXT)
    topic = response_topic(IDENTITY, rid)

    def cancel_after_five_tokens_were_delivered() -> None:
        iot_sink.wait_until(
            lambda _: "".join(event_text(d) for d in iot_sink.events(topic)) == "".join(tokens[:5])
        )
        service.handle_cancel({"rid": rid, "identity_id": IDENTITY})

    provider.hooks[5] = cancel_after_five_tokens_were_delivered
    try:
        outcome = service.handle_prompt(prompt_event(rid=rid), always())
    finally:
        provider.release.set()
    assert outcome.outcome == "cancelled"
    assert outcome.text in ("".join(tokens[:5]), "".join(tokens[:6]))
    assembler = reassemble(iot_sink, rid)
    assert assembler.text == outcome.text
    assert isinstance(assembler.terminal, End) and assembler.terminal.stop == "cancelled"
    assert store.request_status(IDENTITY, rid) == "cancelled"


def test_cancel_from_another_identity_does_not_cancel(iot_sink: IotDataSink, store: StateStore) -> None:
    """The cancel flag is keyed by the rule's identity too: bob cannot cancel alice's stream."""
    rid = str(uuid.uuid4())
    service = make_service(iot_sink, store, ScriptedProvider(text=TEXT), cancel_poll_s=0)
    assert service.handle_cancel({"rid": rid, "identity_id": "us-east-1:2222-bob"})
    assert not service.handle_cancel({"rid": "not-a-uuid", "identity_id": IDENTITY})
    assert service.handle_prompt(prompt_event(rid=rid), always()).outcome == "end_turn"


def test_near_the_lambda_timeout_the_stream_ends_with_timeout(
    iot_sink: IotDataSink, store: StateStore
) -> None:
    """When get_remaining_time_in_millis() drops below the margin, the stream ends with stop=timeout
    instead of the function being killed mid-stream (which would leave the client without a terminal)."""
    rid = str(uuid.uuid4())
    produced = [0]
    provider = StallingProvider(
        TEXT, stall_at=6, hooks={i: (lambda i=i: produced.__setitem__(0, i)) for i in range(8)}
    )
    service = make_service(iot_sink, store, provider, timeout_margin_ms=5_000)
    try:
        outcome = service.handle_prompt(prompt_event(rid=rid), lambda: 60_000 if produced[0] < 4 else 4_000)
    finally:
        provider.release.set()
    assert outcome.outcome == "timeout"
    assembler = reassemble(iot_sink, rid)
    assert assembler.done and isinstance(assembler.terminal, End) and assembler.terminal.stop == "timeout"
    assert assembler.text == outcome.text and TEXT.startswith(outcome.text)


def test_provider_error_mid_stream_ends_with_a_safe_error(iot_sink: IotDataSink, store: StateStore) -> None:
    """A model failure after some text ends the stream with one `error` event whose message is safe."""
    rid = str(uuid.uuid4())
    provider = ScriptedProvider(text=TEXT, fail_after=3, fail_message="The model stopped unexpectedly.")
    service = make_service(iot_sink, store, provider)
    outcome = service.handle_prompt(prompt_event(rid=rid, conversation="c1"), always())
    assert outcome.outcome == "error:provider_error"
    assembler = reassemble(iot_sink, rid)
    assert assembler.text == "".join(split_tokens(TEXT)[:3])
    error = assembler.terminal
    assert isinstance(error, Error) and error.code == "provider_error"
    assert error.message == "The model stopped unexpectedly." and "Traceback" not in error.message
    assert store.load_history(IDENTITY, "c1", 10) == []  # a failed answer is not remembered


def test_unexpected_provider_exception_is_not_leaked(iot_sink: IotDataSink, store: StateStore) -> None:
    """A non-ProviderError exception inside the model becomes a generic provider_error event."""

    class Exploding:
        model = "exploding"

        def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
            raise KeyError("secret internal detail")
            yield  # pragma: no cover

    rid = str(uuid.uuid4())
    outcome = make_service(iot_sink, store, Exploding()).handle_prompt(prompt_event(rid=rid), always())
    assert outcome.outcome == "error:provider_error"
    error = reassemble(iot_sink, rid).terminal
    assert isinstance(error, Error) and "secret" not in error.message


@dataclass
class RecordingProvider:
    answers: list[str]
    seen: list[list[Message]] = field(default_factory=list)
    model: str = "recording"

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        self.seen.append(list(messages))
        return ScriptedProvider(text=self.answers[len(self.seen) - 1]).stream(messages, params)


def test_follow_ups_carry_capped_conversation_history(iot_sink: IotDataSink, store: StateStore) -> None:
    """A conversation's earlier turns are sent to the model (newest `history_turns`), per identity."""
    provider = RecordingProvider(answers=["A1", "A2", "A3", "A4", "B1"])
    service = make_service(iot_sink, store, provider, history_turns=2, system_prompt="sys")
    for text in ("Q1", "Q2", "Q3", "Q4"):
        assert service.handle_prompt(prompt_event(text, conversation="conv"), always()).outcome == "end_turn"
    assert [(m.role, m.content) for m in provider.seen[1]] == [
        ("system", "sys"),
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
    ]
    assert [m.content for m in provider.seen[3]] == ["sys", "Q2", "A2", "Q3", "A3", "Q4"]
    other = {**prompt_event("B", conversation="conv"), "identity_id": "us-east-1:2222-bob"}
    service.handle_prompt(other, always())
    assert [m.content for m in provider.seen[4]] == ["sys", "B"]


def test_max_tokens_is_capped_and_reported(iot_sink: IotDataSink, store: StateStore) -> None:
    """params.max_tokens is honoured up to the service cap; the end event says max_tokens."""
    rid = str(uuid.uuid4())
    service = make_service(iot_sink, store, ScriptedProvider(text=TEXT), max_tokens_cap=3)
    outcome = service.handle_prompt(prompt_event(rid=rid, params={"max_tokens": 100}), always())
    assert outcome.outcome == "max_tokens"
    assert reassemble(iot_sink, rid).text == "".join(split_tokens(TEXT)[:3])


def test_publish_outage_stops_reading_the_model(iot_sink: IotDataSink, store: StateStore) -> None:
    """When iot-data Publish keeps failing (HTTP 500 InternalFailureException), the service stops the
    stream, records an internal error and returns instead of generating into the void."""
    client = boto3.client(
        "iot-data",
        endpoint_url=iot_sink.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    iot_sink.fail_next = 10_000
    config = ServiceConfig(publisher=PublisherConfig(publish_attempts=2, retry_backoff_s=0.001))
    release = threading.Event()
    provider = StallingProvider(TEXT, stall_at=3, release=release)
    service = StreamingService(client, store, provider, config)
    rid = str(uuid.uuid4())
    try:
        outcome = service.handle_prompt(prompt_event(rid=rid), always())
    finally:
        release.set()
    assert outcome.outcome == "error:internal_error"
    assert store.request_status(IDENTITY, rid) == "error:internal_error"
    assert iot_sink.on(response_topic(IDENTITY, rid)) == []
