"""The prompt service: one prompt in, one ordered, coalesced, always-terminated stream out.

Pure logic with injected clients (iot-data publisher client, DynamoDB-backed `StateStore`,
`Provider`). The identity is taken ONLY from the event's `identity_id`, which the IoT rule sets from
`topic(2)` of `chat/{id}/prompt`; the topic policy guarantees a user can publish only on their own
id, so a body can never speak for someone else.

A prompt passes the gate first (`iotstream_lambdas.streaming.gate`: the rid's claim and the identity's limits in one write),
then four threads cooperate per stream: a reader thread pulls the model and hands text to the publisher
(`iotstream_lambdas.streaming.run`), this (controller) thread renews the stream's lease, reads the cancel flag and watches the
Lambda deadline (`iotstream_lambdas.streaming.lease`), the publisher thread sends, and the dashboard feed's thread reports the
stream's status (`iotstream_lambdas.streaming.dashboard_feed`). Neither the model nor the checks ever wait for a publish, and
the user's stream never waits for the feed. A stream whose invocation died is ended by the next attempt
that finds its lease run out (`iotstream_lambdas.streaming.takeover`).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from iotstream_lambdas.streaming.admission import Admission, Lease, Refusal
from iotstream_lambdas.streaming.cancel import cancel_request, trusted_identity
from iotstream_lambdas.streaming.dashboard_feed import DashboardFeed, FeedConfig, Progress, StreamFeed
from iotstream_lambdas.streaming.errors import ProtocolError, ProviderError, StreamingError
from iotstream_lambdas.streaming.gate import Cancelled, Gate, Interrupted, Opened
from iotstream_lambdas.streaming.lease import LeaseTiming, RequestLease
from iotstream_lambdas.streaming.llm.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_SYSTEM_PROMPT,
    Finish,
    GenerationParams,
    Message,
    Provider,
)
from iotstream_lambdas.streaming.publisher import CoalescingPublisher, PublishClient, PublisherConfig
from iotstream_lambdas.streaming.run import ModelReader, StreamRun
from iotstream_lambdas.streaming.state import ConditionsFailed, StateStore, Turn, history_messages
from iotstream_lambdas.streaming.takeover import end_interrupted
from iotstream_lambdas.streaming.wire import (
    DEFAULT_MAX_TEXT_BYTES,
    E_INTERNAL,
    E_INVALID_FIELD,
    E_PROVIDER,
    INVALID_RID,
    Error,
    Prompt,
    Usage,
    encode_event,
    parse_prompt,
    response_topic,
)

RAW_PAYLOAD_KEY = "payload_base64"
"""Alternative event shape: the raw MQTT payload, base64 (rule `SELECT encode(*, 'base64') AS payload_base64`)."""
RECEIVED_AT_KEY = "received_at_ms"
"""When the rules engine received the prompt (rule `timestamp() AS received_at_ms`), epoch ms."""
LEASE_SLACK_MS = 1_000
"""A stream slot is held at most the rest of the invocation plus this (a crashed stream frees it then)."""
_SAFE_INTERNAL_MESSAGE = "The service failed while answering; please try again."


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Limits and timings of the prompt service."""

    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
    default_max_tokens: int = DEFAULT_MAX_TOKENS
    max_tokens_cap: int = 2048
    history_turns: int = 10
    history_max_chars: int = 12_000
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    cancel_poll_s: float = 1.0
    """Renew the stream's lease and read its cancel flag this often (one write; 0 = every `idle_poll_s`)."""
    timeout_margin_ms: int = 5_000
    """End with `stop: timeout` once the Lambda has less than this left (at most a quarter of the time the
    invocation had when the stream began, so a short function timeout still streams and still ends)."""
    idle_poll_s: float = 0.05
    """The heartbeat interval when `cancel_poll_s` is 0."""
    provider_idle_s: float = 25.0
    """A model silent this long (no first token, or no next one) ends the stream with `provider_error`: the
    user gets a reason before a client's 30 s idle timeout (`StreamAssembler`) would give up in silence."""
    close_timeout_s: float = 10.0
    publisher: PublisherConfig = field(default_factory=PublisherConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)

    @property
    def lease(self) -> LeaseTiming:
        return LeaseTiming(heartbeat_s=self.cancel_poll_s or self.idle_poll_s)


@dataclass(frozen=True, slots=True)
class PromptOutcome:
    """What handling one prompt event did (returned by the handler; logged)."""

    status: Literal["streamed", "duplicate", "rejected", "interrupted"]
    rid: str | None
    outcome: str
    """Stop reason (`end_turn`, `max_tokens`, `cancelled`, `timeout`) or `error:<code>` or a rejection reason."""
    text: str = ""
    metrics: Mapping[str, float | int] = field(default_factory=dict)


class StreamingService:
    """Answers prompt and cancel events."""

    def __init__(
        self,
        iot: PublishClient,
        store: StateStore,
        provider: Provider,
        config: ServiceConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        logger: Logger | None = None,
        admission: Admission | None = None,
        feed: DashboardFeed | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.iot = iot
        self.store = store
        self.provider = provider
        self.config = config or ServiceConfig()
        self.clock = clock
        self.logger = logger or Logger(service="iotstream-prompt")
        self.admission = admission
        """Per-identity limits (`iotstream_lambdas.streaming.admission`); None: no limits (unit tests of the streaming)."""
        self.feed = feed or DashboardFeed(iot, self.config.feed, logger=self.logger, clock=clock)
        self.gate = Gate(store, admission, self.config.lease, wall_clock=store.wall_clock, sleep=sleep)

    def handle_cancel(self, event: Any) -> bool:
        """Flag a stream as cancelled (see `iotstream_lambdas.streaming.cancel.cancel_request`)."""
        return cancel_request(self.store, event, self.logger)

    # ------------------------------------------------------------------ prompt

    def handle_prompt(self, event: Any, remaining_ms: Callable[[], int]) -> PromptOutcome:
        """Validate, pass the gate (claim and limits, one write) and stream the answer to one prompt event."""
        identity_id = trusted_identity(event)
        if identity_id is None:
            self.logger.warning("prompt without a usable identity_id; nowhere to answer, ignored")
            return PromptOutcome("rejected", None, "no_identity")
        try:
            prompt = parse_prompt(_prompt_body(event), max_text_bytes=self.config.max_text_bytes)
        except ProtocolError as exc:
            return self._reject(identity_id, exc)
        rid = prompt.rid
        received_at = event.get(RECEIVED_AT_KEY)
        received_at_ms = (
            received_at if isinstance(received_at, int) and not isinstance(received_at, bool) else None
        )
        try:
            decision = self.gate.open(
                identity_id, rid, self.provider.model, received_at_ms, remaining_ms() + LEASE_SLACK_MS
            )
        except (ClientError, BotoCoreError):
            self.logger.exception("could not claim the prompt", extra={"rid": rid})
            decision = Refusal(E_INTERNAL, _SAFE_INTERNAL_MESSAGE)
        if isinstance(decision, Opened):
            return self._stream(identity_id, prompt, remaining_ms, decision)
        if isinstance(decision, Refusal):
            return self._refuse(identity_id, rid, decision)
        if isinstance(decision, Cancelled):
            return self._answer_cancelled(identity_id, rid)
        if isinstance(decision, Interrupted):
            end_interrupted(
                self.iot, self.feed, self.admission, identity_id, rid, decision.record, self.logger
            )
            return PromptOutcome("interrupted", rid, "error:stream_interrupted")
        self.logger.info("duplicate delivery; not answered again", extra={"rid": rid, "why": decision.reason})
        return PromptOutcome("duplicate", rid, "duplicate")

    def _refuse(self, identity_id: str, rid: str, refusal: Refusal) -> PromptOutcome:
        """Answer a prompt the gate refuses with one `error` event (the gate recorded it as answered)."""
        self.logger.info(
            "prompt refused", extra={"identity_id": identity_id, "rid": rid, "code": refusal.code}
        )
        event = Error(rid, 0, refusal.code, refusal.message, refusal.retry_after_ms)
        self._publish_error(identity_id, event, to_dashboards=not refusal.repeated)
        return PromptOutcome("rejected", rid, f"error:{refusal.code}")

    def _reject(self, identity_id: str, exc: ProtocolError) -> PromptOutcome:
        rid = exc.rid or INVALID_RID
        self.logger.info("invalid prompt", extra={"identity_id": identity_id, "rid": rid, "code": exc.code})
        self._publish_error(identity_id, Error(rid=rid, seq=0, code=exc.code, message=exc.message))
        return PromptOutcome("rejected", exc.rid, f"error:{exc.code}")

    def _publish_error(self, identity_id: str, event: Error, *, to_dashboards: bool = True) -> None:
        """The single event of a stream that never started, and its `error` status for the dashboards."""
        try:
            self.iot.publish(topic=response_topic(identity_id, event.rid), qos=1, payload=encode_event(event))
        except (ClientError, BotoCoreError):
            self.logger.exception("could not publish the error event", extra={"rid": event.rid})
        if to_dashboards and event.rid != INVALID_RID:
            self.feed.rejected(identity_id, event.rid, self.provider.model, event.code)

    def _answer_cancelled(self, identity_id: str, rid: str) -> PromptOutcome:
        """Cancelled before the prompt arrived: `start` and `end` with `stop: cancelled`, no model call."""
        publisher = CoalescingPublisher(self.iot, identity_id, rid, self.config.publisher)
        publisher.start(self.provider.model)
        feed = self.feed.open(identity_id, rid, self.provider.model, Progress)
        publisher.end("cancelled", Usage(0, 0))
        publisher.close(timeout=self.config.close_timeout_s)
        feed.end("cancelled")
        feed.close(timeout=self.config.feed.close_timeout_s)
        return PromptOutcome("streamed", rid, "cancelled")

    def _messages(self, identity_id: str, prompt: Prompt) -> list[Message]:
        messages = [Message("system", self.config.system_prompt)] if self.config.system_prompt else []
        if prompt.conversation is not None:
            turns = self.store.load_history(identity_id, prompt.conversation, self.config.history_turns)
            messages.extend(history_messages(turns, self.config.history_max_chars))
        messages.append(Message("user", prompt.text))
        return messages

    def _params(self, prompt: Prompt) -> GenerationParams:
        wanted = prompt.params.max_tokens or self.config.default_max_tokens
        return GenerationParams(min(wanted, self.config.max_tokens_cap), prompt.params.temperature)

    def _stream(
        self, identity_id: str, prompt: Prompt, remaining_ms: Callable[[], int], opened: Opened
    ) -> PromptOutcome:
        started = self.clock()
        lease = opened.lease
        publisher = CoalescingPublisher(
            self.iot, identity_id, prompt.rid, self.config.publisher, reserve=lease.reserve
        )
        publisher.start(self.provider.model)
        run = StreamRun(started=started, clock=self.clock, publisher=publisher)
        feed = self.feed.open(
            identity_id, prompt.rid, self.provider.model, lambda: run.progress(publisher.metrics.messages)
        )
        margin_ms = min(self.config.timeout_margin_ms, remaining_ms() // 4)
        try:
            reader = ModelReader(
                self.provider.stream(self._messages(identity_id, prompt), self._params(prompt)),
                run,
                self.logger,
            )
            self._control(reader, run, lease, feed, remaining_ms, margin_ms)
        except (StreamingError, ClientError, BotoCoreError):
            self.logger.exception("stream failed", extra={"rid": prompt.rid})
            run.error = (E_INTERNAL, _SAFE_INTERNAL_MESSAGE)
        except Exception:  # request boundary: the stream must still end with an error event
            self.logger.exception("unexpected failure while streaming", extra={"rid": prompt.rid})
            run.error = (E_INTERNAL, _SAFE_INTERNAL_MESSAGE)
        finally:
            run.close()
        if lease.lost:
            return self._abandon(prompt.rid, publisher, feed)
        metrics = run.metrics(self.clock())
        outcome = f"error:{run.error[0]}" if run.error is not None else (run.stop or "end_turn")
        text = "".join(run.text)
        # Record the outcome and free the slot before the terminal event (one write): a client may send its
        # next prompt as soon as it sees the end.
        if not self._record(identity_id, prompt, lease, opened.slot, outcome, text):
            return self._abandon(prompt.rid, publisher, feed)
        if run.error is not None:
            publisher.fail(*run.error)
        else:
            publisher.end(run.stop or "end_turn", run.usage or Usage(0, run.chunks), metrics)
        budget = max(0.5, min(self.config.close_timeout_s, (remaining_ms() - 500) / 1000))
        if not publisher.close(timeout=budget):
            self.logger.error(
                "terminal event not published", extra={"rid": prompt.rid, "error": str(publisher.failed)}
            )
        self._end_feed(feed, run, remaining_ms)
        summary = {**metrics, **publisher.metrics.summary()}
        if run.usage is not None and run.usage.output_tokens:
            summary["output_tokens"] = run.usage.output_tokens
        self.logger.info("stream finished", extra={"rid": prompt.rid, "outcome": outcome, "metrics": summary})
        return PromptOutcome("streamed", prompt.rid, outcome, text, summary)

    def _control(
        self,
        reader: ModelReader,
        run: StreamRun,
        lease: RequestLease,
        feed: StreamFeed,
        remaining_ms: Callable[[], int],
        margin_ms: int,
    ) -> None:
        """Wait for the model to finish or fail while renewing the lease (which reads the cancel flag) and
        watching the deadline: stop once less than `margin_ms` is left in the invocation."""
        interval = self.config.lease.heartbeat_s
        next_beat = self.clock() + interval
        while True:
            left_s = (remaining_ms() - margin_ms) / 1000
            if left_s <= 0:
                run.stop = "timeout"
                return
            silent_s = self.clock() - (run.last_token_at or run.started)
            if silent_s >= self.config.provider_idle_s:
                self.logger.warning("the model went silent", extra={"silent_s": round(silent_s, 1)})
                run.error = (E_PROVIDER, "The model stopped responding; please try again.")
                return
            if self.clock() >= next_beat:
                published, next_seq = run.publisher.progress
                beat = lease.heartbeat(published, next_seq, feed.n)
                if beat != "live":  # cancelled, or taken over (`lease.lost`)
                    run.stop = "cancelled"
                    return
                next_beat = self.clock() + interval
            if run.publisher.failed is not None:
                raise run.publisher.failed
            outcome = reader.wait(
                min(left_s, next_beat - self.clock(), self.config.provider_idle_s - silent_s)
            )
            if isinstance(outcome, Finish):
                run.stop, run.usage = outcome.stop_reason, outcome.usage
                return
            if isinstance(outcome, ProviderError):
                run.error = (E_PROVIDER, outcome.message)
                return
            if outcome is not None:
                run.error = (E_PROVIDER, "The model failed while answering; please try again.")
                return

    def _abandon(self, rid: str, publisher: CoalescingPublisher, feed: StreamFeed) -> PromptOutcome:
        """Another invocation took the stream over: publish and record nothing more."""
        self.logger.warning("stream taken over by another invocation", extra={"rid": rid})
        publisher.abandon()
        feed.abandon()
        return PromptOutcome("interrupted", rid, "lost")

    def _end_feed(self, feed: StreamFeed, run: StreamRun, remaining_ms: Callable[[], int]) -> None:
        """The feed's final update, once the user's stream has ended (so the user never waits for it)."""
        if run.error is not None:
            feed.fail(run.error[0])
        else:
            feed.end(run.stop or "end_turn")
        budget = max(0.1, min(self.config.feed.close_timeout_s, (remaining_ms() - 500) / 1000))
        if not feed.close(timeout=budget):
            self.logger.warning("dashboard feed's final update still pending", extra={"rid": feed.rid})

    def _record(
        self,
        identity_id: str,
        prompt: Prompt,
        lease: RequestLease,
        slot: Lease | None,
        outcome: str,
        text: str,
    ) -> bool:
        """One write: the outcome (only while this invocation still owns the rid), the slot given back, the
        conversation turn. False when the rid was taken over; a store that cannot be reached is logged (the
        user still gets the terminal event, the slot's lease ends on its own)."""
        actions = [{"Update": self.store.finish_update(identity_id, prompt.rid, lease.owner, outcome)}]
        if slot is not None and self.admission is not None:
            actions.append({"Update": self.admission.release_update(slot)})
        if prompt.conversation is not None and text and not outcome.startswith("error:"):
            turn = Turn(prompt.text, text)
            actions.append({"Put": self.store.turn_put(identity_id, prompt.conversation, prompt.rid, turn)})
        try:
            self.store.write(actions)
        except ConditionsFailed:
            return False
        except (ClientError, BotoCoreError):
            self.logger.exception("could not record the finished stream", extra={"rid": prompt.rid})
        return True


def _prompt_body(event: Mapping[str, Any]) -> bytes | Mapping[str, Any]:
    """The prompt: the event itself, or the raw payload when the rule passed it base64-encoded."""
    raw = event.get(RAW_PAYLOAD_KEY)
    if raw is None:
        return event
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(E_INVALID_FIELD, f"{RAW_PAYLOAD_KEY} is not base64") from None
