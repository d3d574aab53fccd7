"""Per-identity limits (iotstream_lambdas.streaming.admission, passed through iotstream_lambdas.streaming.gate in the same transaction as the rid's
claim) against moto's DynamoDB server through a real boto3 client: conditional writes decide, so racing
prompts cannot exceed a limit
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from iotstream_lambdas.streaming.admission import Admission, AdmissionLimits, Lease, Refusal
from iotstream_lambdas.streaming.gate import Gate, Opened
from iotstream_lambdas.streaming.lease import LeaseTiming
from iotstream_lambdas.streaming.llm.scripted import ScriptedProvider
from iotstream_lambdas.streaming.publisher import PublisherConfig
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.status import DASHBOARD_TOPIC_PREFIX
from iotstream_lambdas.streaming.wire import (
    E_PROMPT_EXPIRED,
    E_RATE_LIMITED,
    E_TOO_MANY_STREAMS,
    Error,
    response_topic,
)
from tests.support.streaming import prompt_event

if TYPE_CHECKING:
    from tests.support.streaming import IotDataSink

NOON = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC).timestamp()
MINUTE_LEFT_MS = 50_000  # from 12:00:10 to 12:01:00
LEASE_MS = 300_000


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _admission(store: StateStore, clock: Clock, **limits: Any) -> Admission:
    limits = {"max_streams": 0, "per_minute": 0, "per_day": 0, **limits}
    return Admission(store.client, store.table, AdmissionLimits(**limits), wall_clock=clock)


def _identity() -> str:
    return f"us-east-1:{uuid.uuid4()}"


def _admit(admission: Admission, identity: str, received_at_ms: int | None = None) -> Lease | Refusal:
    """A new rid through the gate: its stream slot, or the refusal."""
    clock = admission.wall_clock
    store = StateStore(admission.client, admission.table, wall_clock=clock)
    gate = Gate(store, admission, LeaseTiming(), wall_clock=clock)
    rid = str(uuid.uuid4())
    decision = gate.open(identity, rid, "m", received_at_ms, LEASE_MS)
    if isinstance(decision, Opened):
        return decision.slot or Lease(identity, rid)
    assert isinstance(decision, Refusal), decision
    return decision


def _service(
    iot_sink: IotDataSink, store: StateStore, clock: Clock, admission: Admission
) -> StreamingService:
    """The streaming service on the shared clock, answering "Hello there." without a rate cap."""
    return StreamingService(
        iot_sink.client(),
        StateStore(store.client, store.table, wall_clock=clock),
        ScriptedProvider(text="Hello there."),
        ServiceConfig(publisher=PublisherConfig(max_messages_per_second=0)),
        admission=admission,
    )


def test_concurrent_streams_are_capped_per_identity_and_freed_on_release(store: StateStore) -> None:
    """The third stream of an identity is refused with too_many_streams; retry_after_ms is when the oldest
    slot is sure to be free; releasing a slot admits the next; another identity is not affected."""
    clock = Clock()
    admission = _admission(store, clock, max_streams=2)
    alice, bob = _identity(), _identity()
    first = _admit(admission, alice)
    clock.now += 1
    second = _admit(admission, alice)
    assert isinstance(first, Lease) and isinstance(second, Lease)
    refused = _admit(admission, alice)
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.retry_after_ms) == (E_TOO_MANY_STREAMS, LEASE_MS - 1000)
    assert isinstance(_admit(admission, bob), Lease)
    admission.release(first)
    assert isinstance(_admit(admission, alice), Lease)


def test_a_crashed_stream_frees_its_slot_when_its_lease_ends(store: StateStore) -> None:
    """A stream that never released (its invocation died) stops counting once its lease ends."""
    clock = Clock()
    admission = _admission(store, clock, max_streams=1)
    alice = _identity()
    assert isinstance(_admit(admission, alice), Lease)
    assert isinstance(_admit(admission, alice), Refusal)
    clock.now += LEASE_MS / 1000 + 1
    assert isinstance(_admit(admission, alice), Lease)


def test_racing_prompts_never_exceed_the_stream_limit(store: StateStore) -> None:
    """Twelve prompts of one identity at once, limit 3: exactly 3 leases (optimistic writes on `version`)."""
    admission = _admission(store, Clock(), max_streams=3)
    alice = _identity()
    results: list[Lease | Refusal] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def one() -> None:
        start.wait()
        result = _admit(admission, alice)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 12
    assert sum(isinstance(r, Lease) for r in results) == 3
    assert {r.code for r in results if isinstance(r, Refusal)} == {E_TOO_MANY_STREAMS}


def test_prompts_per_minute_refuse_until_the_next_minute(store: StateStore) -> None:
    """Limit 2 per UTC minute: the third prompt is rate_limited with retry_after_ms = the rest of the minute;
    the next minute admits again."""
    clock = Clock()
    admission = _admission(store, clock, per_minute=2)
    alice = _identity()
    assert [isinstance(_admit(admission, alice), Lease) for _ in range(2)] == [True, True]
    refused = _admit(admission, alice)
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.retry_after_ms) == (E_RATE_LIMITED, MINUTE_LEFT_MS)
    assert isinstance(_admit(admission, _identity()), Lease)  # per identity
    clock.now += MINUTE_LEFT_MS / 1000
    assert isinstance(_admit(admission, alice), Lease)


def test_a_full_window_is_remembered_until_it_ends_without_another_transaction(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counters only rise within a window, so an identity refused for a window stays refused until it ends:
    the warm environment refuses its next prompts without the admission transaction and without any write
    (a flood leaves no items behind), with the same code and retry_after_ms; other identities and the next
    minute are untouched."""
    clock = Clock()
    admission = _admission(store, clock, per_minute=1)
    alice = _identity()
    assert isinstance(_admit(admission, alice), Lease)
    first = _admit(admission, alice)
    assert isinstance(first, Refusal) and first.code == E_RATE_LIMITED
    transactions: list[object] = []
    recorded: list[str] = []
    original = StateStore.write
    original_record = StateStore.record_outcome_unclaimed
    monkeypatch.setattr(
        StateStore, "write", lambda self, actions: transactions.append(actions) or original(self, actions)
    )
    monkeypatch.setattr(
        StateStore,
        "record_outcome_unclaimed",
        lambda self, identity, rid, outcome: (
            recorded.append(rid) or original_record(self, identity, rid, outcome)
        ),
    )
    clock.now += 10
    again = _admit(admission, alice)
    assert isinstance(again, Refusal) and again.repeated and not first.repeated
    assert (again.code, again.retry_after_ms) == (E_RATE_LIMITED, MINUTE_LEFT_MS - 10_000)
    assert transactions == [] and recorded == []
    assert isinstance(_admit(admission, _identity()), Lease) and len(transactions) == 1
    clock.now += MINUTE_LEFT_MS / 1000
    assert isinstance(_admit(admission, alice), Lease)


def test_a_refused_prompt_counts_in_no_window(store: StateStore) -> None:
    """Minute and day counters rise together in one transaction: a prompt refused by the daily limit does
    not use up the minute, and one refused by the minute does not use up the day."""
    clock = Clock()
    admission = _admission(store, clock, per_minute=1, per_day=2)
    alice = _identity()
    assert isinstance(_admit(admission, alice), Lease)
    minute_full = _admit(admission, alice)
    assert isinstance(minute_full, Refusal) and "minute" in minute_full.message
    clock.now += 60
    assert isinstance(_admit(admission, alice), Lease)  # the refused one did not count in the day
    clock.now += 60
    day_full = _admit(admission, alice)
    assert isinstance(day_full, Refusal) and day_full.code == E_RATE_LIMITED and "daily" in day_full.message
    midnight = datetime(2026, 12, 2, tzinfo=UTC).timestamp()
    assert day_full.retry_after_ms == int((midnight - clock.now) * 1000)


def test_a_refused_rate_gives_the_stream_slot_back(store: StateStore) -> None:
    """A prompt refused by a rate limit does not keep the stream slot it took first."""
    clock = Clock()
    admission = _admission(store, clock, max_streams=1, per_minute=1)
    alice = _identity()
    first = _admit(admission, alice)
    assert isinstance(first, Lease)
    admission.release(first)
    refused = _admit(admission, alice)
    assert isinstance(refused, Refusal) and refused.code == E_RATE_LIMITED
    clock.now += 60
    assert isinstance(_admit(admission, alice), Lease)


def test_a_prompt_older_than_the_client_waits_is_expired(store: StateStore) -> None:
    """`received_at_ms` (the rule's timestamp()) more than PROMPT_MAX_AGE_MS ago: prompt_expired, no
    retry_after (waiting will not help); a fresh prompt, or one without the field, passes."""
    clock = Clock()
    admission = _admission(store, clock, max_age_ms=30_000)
    now_ms = int(clock.now * 1000)
    expired = _admit(admission, _identity(), received_at_ms=now_ms - 30_001)
    assert isinstance(expired, Refusal)
    assert (expired.code, expired.retry_after_ms) == (E_PROMPT_EXPIRED, None)
    assert isinstance(_admit(admission, _identity(), received_at_ms=now_ms - 29_000), Lease)
    assert isinstance(_admit(admission, _identity(), received_at_ms=None), Lease)


def test_limits_come_from_the_environment_with_documented_defaults() -> None:
    """PROMPT_MAX_AGE_MS, MAX_STREAMS_PER_IDENTITY, PROMPTS_PER_MINUTE, PROMPTS_PER_DAY; empty = default."""
    assert AdmissionLimits.from_env({}) == AdmissionLimits(30_000, 2, 10, 200)
    env = {
        "PROMPT_MAX_AGE_MS": "5000",
        "MAX_STREAMS_PER_IDENTITY": "0",
        "PROMPTS_PER_MINUTE": "",
        "PROMPTS_PER_DAY": "7",
    }
    assert AdmissionLimits.from_env(env) == AdmissionLimits(5000, 0, 10, 7)


def test_service_answers_a_refusal_with_one_error_event_and_records_it(
    iot_sink: IotDataSink, store: StateStore
) -> None:
    """The refused prompt's stream is one `error` (seq 0) with the code and retry_after_ms; the rid is
    recorded as answered, so a redelivery of the same event publishes nothing more (idempotency)."""
    clock = Clock()
    admission = _admission(store, clock, per_minute=1)
    service = _service(iot_sink, store, clock, admission)
    alice = _identity()
    first = prompt_event(alice, "Hi")
    assert service.handle_prompt(first, lambda: 300_000).outcome == "end_turn"
    second = prompt_event(alice, "Hi again")
    outcome = service.handle_prompt(second, lambda: 300_000)
    assert (outcome.status, outcome.outcome) == ("rejected", f"error:{E_RATE_LIMITED}")
    (event,) = iot_sink.events(response_topic(alice, second["rid"]))
    assert isinstance(event, Error)
    assert (event.seq, event.code, event.retry_after_ms) == (0, E_RATE_LIMITED, MINUTE_LEFT_MS)
    assert "minute" in event.message
    assert store.request_status(alice, second["rid"]) == f"error:{E_RATE_LIMITED}"
    assert service.handle_prompt(second, lambda: 300_000).status == "duplicate"
    assert len(iot_sink.on(response_topic(alice, second["rid"]))) == 1


def test_a_repeated_refusal_never_answers_a_redelivered_stream_with_an_error(
    iot_sink: IotDataSink, store: StateStore
) -> None:
    """A repeated refusal is only read, not recorded, so it must still see that the rid is someone's stream:
    the prompt that filled the window, delivered again while the window is known to be full, is a duplicate
    (its stream is not given an `error`). A new rid is refused with an `error` for the user, but no
    dashboard update (only the first refusal of a window is shown) and no item in the table."""
    clock = Clock()
    admission = _admission(store, clock, per_minute=1)
    service = _service(iot_sink, store, clock, admission)
    alice = _identity()
    answered = prompt_event(alice, "Hi")
    assert service.handle_prompt(answered, lambda: 300_000).outcome == "end_turn"
    first_refused = prompt_event(alice, "Hi again")
    assert service.handle_prompt(first_refused, lambda: 300_000).outcome == f"error:{E_RATE_LIMITED}"
    answer_events = len(iot_sink.on(response_topic(alice, answered["rid"])))
    feed_updates = [m for m in iot_sink.messages if m.topic.startswith(DASHBOARD_TOPIC_PREFIX)]

    assert service.handle_prompt(answered, lambda: 300_000).status == "duplicate"
    assert len(iot_sink.on(response_topic(alice, answered["rid"]))) == answer_events

    flood = prompt_event(alice, "and again")
    outcome = service.handle_prompt(flood, lambda: 300_000)
    assert (outcome.status, outcome.outcome) == ("rejected", f"error:{E_RATE_LIMITED}")
    (event,) = iot_sink.events(response_topic(alice, flood["rid"]))
    assert isinstance(event, Error) and event.code == E_RATE_LIMITED
    assert [m for m in iot_sink.messages if m.topic.startswith(DASHBOARD_TOPIC_PREFIX)] == feed_updates
    assert store.request_status(alice, flood["rid"]) is None
