"""The prompt service: one prompt in, one ordered, coalesced, always-terminated stream out.

Pure logic with injected clients (iot-data publisher client, DynamoDB-backed `StateStore`,
`Provider`). The identity is taken ONLY from the event's `identity_id`, which the IoT rule sets from
`topic(2)` of `chat/{id}/prompt`; the topic policy guarantees a user can publish only on their own
id, so a body can never speak for someone else.

Four threads cooperate per stream: a reader thread pulls the model, this (controller) thread moves
text to the publisher and checks cancel flags and the Lambda deadline, the publisher thread sends, and
the dashboard feed's thread reports the stream's status (`streaming.dashboard_feed`). Neither the model
nor the checks ever wait for a publish, and the user's stream never waits for the feed.
"""

from __future__ import annotations

import base64
import binascii
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from streaming.admission import Admission, Lease, Refusal
from streaming.cancel import cancel_request, trusted_identity
from streaming.dashboard_feed import DashboardFeed, FeedConfig, Progress, StreamFeed
from streaming.errors import ProtocolError, ProviderError, StreamingError
from streaming.llm.base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_SYSTEM_PROMPT,
    Chunk,
    Finish,
    GenerationParams,
    Message,
    Provider,
    TextChunk,
)
from streaming.publisher import CoalescingPublisher, PublishClient, PublisherConfig
from streaming.state import StateStore, Turn, history_messages
from streaming.wire import (
    DEFAULT_MAX_TEXT_BYTES,
    E_INTERNAL,
    E_INVALID_FIELD,
    E_PROVIDER,
    INVALID_RID,
    Error,
    Prompt,
    StopReason,
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
RATE_MIN_WINDOW_S = 0.1
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
    cancel_poll_s: float = 0.25
    """Check the cancel flag at most this often (0 = at every chunk)."""
    timeout_margin_ms: int = 5_000
    """End with `stop: timeout` once the Lambda has less than this left (at most a quarter of the time the
    invocation had when the stream began, so a short function timeout still streams and still ends)."""
    idle_poll_s: float = 0.05
    """How often the controller wakes while the model is silent (to check cancel and the deadline)."""
    close_timeout_s: float = 10.0
    publisher: PublisherConfig = field(default_factory=PublisherConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)


@dataclass(frozen=True, slots=True)
class PromptOutcome:
    """What handling one prompt event did (returned by the handler; logged)."""

    status: Literal["streamed", "duplicate", "rejected"]
    rid: str | None
    outcome: str
    """Stop reason (`end_turn`, `max_tokens`, `cancelled`, `timeout`) or `error:<code>` or a rejection reason."""
    text: str = ""
    metrics: Mapping[str, float | int] = field(default_factory=dict)


_Item = Chunk | ProviderError | BaseException


class _Reader:
    """Pulls the model in its own thread so the controller can react to cancel and the deadline."""

    def __init__(self, chunks: Iterator[Chunk], logger: Logger) -> None:
        self.items: queue.Queue[_Item] = queue.Queue()
        self._chunks = chunks
        self._stop = threading.Event()
        self._logger = logger
        self._thread = threading.Thread(target=self._run, name="model-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if self._stop.is_set():
                    return
                self.items.put(chunk)
        except ProviderError as exc:
            self._logger.warning(
                "provider error", extra={"code": exc.code, "error": str(exc.__cause__ or exc)}
            )
            self.items.put(exc)
        except Exception as exc:  # thread boundary: report it to the controller, never crash
            self._logger.exception("unexpected provider failure")
            self.items.put(exc)
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()

    def stop(self) -> None:
        """Ask the reader to stop at its next chunk (a blocked model call cannot be interrupted)."""
        self._stop.set()


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
    ) -> None:
        self.iot = iot
        self.store = store
        self.provider = provider
        self.config = config or ServiceConfig()
        self.clock = clock
        self.logger = logger or Logger(service="iotstream-prompt")
        self.admission = admission
        """Per-identity limits (`streaming.admission`); None: no limits (unit tests of the streaming)."""
        self.feed = feed or DashboardFeed(iot, self.config.feed, logger=self.logger, clock=clock)

    def handle_cancel(self, event: Any) -> bool:
        """Flag a stream as cancelled (see `streaming.cancel.cancel_request`)."""
        return cancel_request(self.store, event, self.logger)

    # ------------------------------------------------------------------ prompt

    def handle_prompt(self, event: Any, remaining_ms: Callable[[], int]) -> PromptOutcome:
        """Validate, claim (idempotency per rid) and stream the answer to one prompt event."""
        identity_id = trusted_identity(event)
        if identity_id is None:
            self.logger.warning("prompt without a usable identity_id; nowhere to answer, ignored")
            return PromptOutcome("rejected", None, "no_identity")
        try:
            prompt = parse_prompt(_prompt_body(event), max_text_bytes=self.config.max_text_bytes)
        except ProtocolError as exc:
            return self._reject(identity_id, exc)
        if not self.store.claim_request(identity_id, prompt.rid):
            self.logger.info("duplicate delivery; already answered", extra={"rid": prompt.rid})
            return PromptOutcome("duplicate", prompt.rid, "duplicate")
        lease = self._admit(identity_id, prompt.rid, event, remaining_ms)
        if isinstance(lease, Refusal):
            return self._refuse(identity_id, prompt.rid, lease)
        return self._stream(identity_id, prompt, remaining_ms, lease)

    def _admit(
        self, identity_id: str, rid: str, event: Mapping[str, Any], remaining_ms: Callable[[], int]
    ) -> Lease | Refusal | None:
        """The identity's stream slot, a refusal, or None when no limits apply."""
        if self.admission is None:
            return None
        received_at = event.get(RECEIVED_AT_KEY)
        received_at_ms = (
            received_at if isinstance(received_at, int) and not isinstance(received_at, bool) else None
        )
        try:
            return self.admission.admit(identity_id, rid, received_at_ms, remaining_ms() + LEASE_SLACK_MS)
        except (ClientError, BotoCoreError):
            self.logger.exception("could not check the identity's limits", extra={"rid": rid})
            return Refusal(E_INTERNAL, _SAFE_INTERNAL_MESSAGE)

    def _release(self, lease: Lease | None) -> None:
        if lease is None or self.admission is None:
            return
        try:
            self.admission.release(lease)
        except (ClientError, BotoCoreError):  # the lease expires on its own
            self.logger.exception("could not release the stream slot", extra={"rid": lease.rid})

    def _refuse(self, identity_id: str, rid: str, refusal: Refusal) -> PromptOutcome:
        """Answer a prompt the limits refuse with one `error` event, and record it as answered."""
        self.logger.info(
            "prompt refused", extra={"identity_id": identity_id, "rid": rid, "code": refusal.code}
        )
        event = Error(rid, 0, refusal.code, refusal.message, refusal.retry_after_ms)
        self._publish_error(identity_id, event)
        try:
            self.store.finish_request(identity_id, rid, f"error:{refusal.code}")
        except (ClientError, BotoCoreError):
            self.logger.exception("could not record the refused prompt", extra={"rid": rid})
        return PromptOutcome("rejected", rid, f"error:{refusal.code}")

    def _reject(self, identity_id: str, exc: ProtocolError) -> PromptOutcome:
        rid = exc.rid or INVALID_RID
        self.logger.info("invalid prompt", extra={"identity_id": identity_id, "rid": rid, "code": exc.code})
        self._publish_error(identity_id, Error(rid=rid, seq=0, code=exc.code, message=exc.message))
        return PromptOutcome("rejected", exc.rid, f"error:{exc.code}")

    def _publish_error(self, identity_id: str, event: Error) -> None:
        """The single event of a stream that never started, and its `error` status for the dashboards."""
        try:
            self.iot.publish(topic=response_topic(identity_id, event.rid), qos=1, payload=encode_event(event))
        except (ClientError, BotoCoreError):
            self.logger.exception("could not publish the error event", extra={"rid": event.rid})
        if event.rid != INVALID_RID:
            self.feed.rejected(identity_id, event.rid, self.provider.model, event.code)

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
        self, identity_id: str, prompt: Prompt, remaining_ms: Callable[[], int], lease: Lease | None = None
    ) -> PromptOutcome:
        started = self.clock()
        publisher = CoalescingPublisher(self.iot, identity_id, prompt.rid, self.config.publisher)
        publisher.start(self.provider.model)
        run = _Run(started=started)
        feed = self.feed.open(
            identity_id, prompt.rid, self.provider.model, lambda: run.progress(publisher.metrics.messages)
        )
        margin_ms = min(self.config.timeout_margin_ms, remaining_ms() // 4)
        try:
            reader = _Reader(
                self.provider.stream(self._messages(identity_id, prompt), self._params(prompt)), self.logger
            )
            try:
                self._pump(identity_id, prompt.rid, reader, publisher, run, remaining_ms, margin_ms)
            finally:
                reader.stop()
        except (StreamingError, ClientError, BotoCoreError):
            self.logger.exception("stream failed", extra={"rid": prompt.rid})
            run.error = (E_INTERNAL, _SAFE_INTERNAL_MESSAGE)
        except Exception:  # request boundary: the stream must still end with an error event
            self.logger.exception("unexpected failure while streaming", extra={"rid": prompt.rid})
            run.error = (E_INTERNAL, _SAFE_INTERNAL_MESSAGE)
        # Free the slot before the terminal event: a client may send its next prompt as soon as it sees it.
        self._release(lease)
        metrics = run.metrics(self.clock())
        if run.error is not None:
            publisher.fail(*run.error)
            outcome = f"error:{run.error[0]}"
        else:
            stop = run.stop or "end_turn"
            publisher.end(stop, run.usage or Usage(0, run.chunks), metrics)
            outcome = stop
        budget = max(0.5, min(self.config.close_timeout_s, (remaining_ms() - 500) / 1000))
        if not publisher.close(timeout=budget):
            self.logger.error(
                "terminal event not published", extra={"rid": prompt.rid, "error": str(publisher.failed)}
            )
        self._end_feed(feed, run, remaining_ms)
        text = "".join(run.text)
        self._record(identity_id, prompt, outcome, text)
        summary = {**metrics, **publisher.metrics.summary()}
        if run.usage is not None and run.usage.output_tokens:
            summary["output_tokens"] = run.usage.output_tokens
        self.logger.info("stream finished", extra={"rid": prompt.rid, "outcome": outcome, "metrics": summary})
        return PromptOutcome("streamed", prompt.rid, outcome, text, summary)

    def _pump(
        self,
        identity_id: str,
        rid: str,
        reader: _Reader,
        publisher: CoalescingPublisher,
        run: _Run,
        remaining_ms: Callable[[], int],
        margin_ms: int,
    ) -> None:
        """Move model output to the publisher until the model finishes, fails, is cancelled or time runs out
        (less than `margin_ms` left in the invocation)."""
        next_cancel_check = self.clock()
        while True:
            if remaining_ms() < margin_ms:
                run.stop = "timeout"
                return
            if self.clock() >= next_cancel_check:
                if self.store.is_cancelled(identity_id, rid):
                    run.stop = "cancelled"
                    return
                next_cancel_check = self.clock() + self.config.cancel_poll_s
            if publisher.failed is not None:
                raise publisher.failed
            try:
                item = reader.items.get(timeout=self.config.idle_poll_s)
            except queue.Empty:
                continue
            if isinstance(item, TextChunk):
                now = self.clock()
                if run.first_token_at is None:
                    run.first_token_at = now
                run.last_token_at = now
                run.chunks += 1
                run.text.append(item.text)
                publisher.add_text(item.text)
            elif isinstance(item, Finish):
                run.stop, run.usage = item.stop_reason, item.usage
                return
            elif isinstance(item, ProviderError):
                run.error = (E_PROVIDER, item.message)
                return
            else:
                run.error = (E_PROVIDER, "The model failed while answering; please try again.")
                return

    def _end_feed(self, feed: StreamFeed, run: _Run, remaining_ms: Callable[[], int]) -> None:
        """The feed's final update, once the user's stream has ended (so the user never waits for it)."""
        if run.error is not None:
            feed.fail(run.error[0])
        else:
            feed.end(run.stop or "end_turn")
        budget = max(0.1, min(self.config.feed.close_timeout_s, (remaining_ms() - 500) / 1000))
        if not feed.close(timeout=budget):
            self.logger.warning("dashboard feed's final update still pending", extra={"rid": feed.rid})

    def _record(self, identity_id: str, prompt: Prompt, outcome: str, text: str) -> None:
        try:
            if prompt.conversation is not None and text and not outcome.startswith("error:"):
                self.store.append_turn(identity_id, prompt.conversation, prompt.rid, Turn(prompt.text, text))
            self.store.finish_request(identity_id, prompt.rid, outcome)
        except (ClientError, BotoCoreError):
            self.logger.exception("could not record the finished stream", extra={"rid": prompt.rid})


@dataclass
class _Run:
    """Mutable facts about one stream, owned by the controller thread."""

    started: float
    first_token_at: float | None = None
    last_token_at: float | None = None
    chunks: int = 0
    text: list[str] = field(default_factory=list)
    stop: StopReason | None = None
    usage: Usage | None = None
    error: tuple[str, str] | None = None

    def metrics(self, now: float) -> dict[str, float | int]:
        out: dict[str, float | int] = {
            "duration_ms": round((now - self.started) * 1000, 1),
            "tokens": self.chunks,
        }
        if self.first_token_at is not None:
            out["ttft_ms"] = round((self.first_token_at - self.started) * 1000, 1)
        return out

    def progress(self, messages: int) -> Progress:
        """For the dashboard feed (read from its thread: each field is read once, a torn read is harmless
        because the next update carries the whole state again). Rate: tokens after the first per second,
        once they span at least RATE_MIN_WINDOW_S (a burst of tokens within a few ms has no meaningful rate)."""
        first, last, chunks = self.first_token_at, self.last_token_at, self.chunks
        ttft = None if first is None else round((first - self.started) * 1000, 1)
        rate = None
        if first is not None and last is not None and chunks > 1 and last - first >= RATE_MIN_WINDOW_S:
            rate = round((chunks - 1) / (last - first), 1)
        return Progress(tokens=chunks, messages=messages, ttft_ms=ttft, tokens_per_s=rate)


def _prompt_body(event: Mapping[str, Any]) -> bytes | Mapping[str, Any]:
    """The prompt: the event itself, or the raw payload when the rule passed it base64-encoded."""
    raw = event.get(RAW_PAYLOAD_KEY)
    if raw is None:
        return event
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(E_INVALID_FIELD, f"{RAW_PAYLOAD_KEY} is not base64") from None
