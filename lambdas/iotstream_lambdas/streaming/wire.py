"""Wire protocol v1: the prompt a client publishes and the events streamed back (see docs/protocol.md).

Shared by the prompt Lambda and every client. Parsing is strict and every failure is a
`ProtocolError` with a stable `code`, so a bad prompt is always answered with one `error` event.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from iotstream_lambdas.streaming.errors import ProtocolError

PROTOCOL_VERSION: Final = 1
DEFAULT_MAX_TEXT_BYTES: Final = 16 * 1024
MAX_TOKENS_LIMIT: Final = 8192
AWS_IOT_MAX_PAYLOAD_BYTES: Final = 128 * 1024
"""AWS IoT Core rejects any publish whose payload is larger (AWS IoT Core quotas, "Message broker")."""
INVALID_RID: Final = "invalid"
"""Stands in for the request id (in the topic and the event) when a prompt has no usable rid."""

StopReason = Literal["end_turn", "max_tokens", "cancelled", "timeout"]
STOP_REASONS: Final[frozenset[str]] = frozenset({"end_turn", "max_tokens", "cancelled", "timeout"})

# Error codes of `error` events. Prompt validation codes first, then service-side codes.
E_INVALID_JSON: Final = "invalid_json"
E_INVALID_UTF8: Final = "invalid_utf8"
E_NOT_AN_OBJECT: Final = "not_an_object"
E_UNSUPPORTED_VERSION: Final = "unsupported_version"
E_MISSING_FIELD: Final = "missing_field"
E_INVALID_FIELD: Final = "invalid_field"
E_INVALID_RID: Final = "invalid_rid"
E_TEXT_TOO_LONG: Final = "text_too_long"
E_PAYLOAD_TOO_LARGE: Final = "payload_too_large"
E_PROVIDER: Final = "provider_error"
E_INTERNAL: Final = "internal_error"
E_PROMPT_EXPIRED: Final = "prompt_expired"
E_TOO_MANY_STREAMS: Final = "too_many_streams"
E_RATE_LIMITED: Final = "rate_limited"
E_INTERRUPTED: Final = "stream_interrupted"

# Validated with fullmatch: `$` would also match before a final newline ("<uuid>\n" passed once).
_RID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CONVERSATION_RE: Final = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
_TOPIC_LEVEL_FORBIDDEN: Final = frozenset("/+#\x00")


# --------------------------------------------------------------------------------------- prompt


@dataclass(frozen=True, slots=True)
class Params:
    """Optional generation parameters a client may send; None means the service default."""

    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Prompt:
    """A validated prompt (client → `chat/{id}/prompt`)."""

    rid: str
    text: str
    conversation: str | None = None
    params: Params = field(default_factory=Params)

    def to_json(self) -> dict[str, Any]:
        """The prompt as the JSON object a client publishes."""
        body: dict[str, Any] = {"v": PROTOCOL_VERSION, "rid": self.rid, "text": self.text}
        if self.conversation is not None:
            body["conversation"] = self.conversation
        pairs = (("max_tokens", self.params.max_tokens), ("temperature", self.params.temperature))
        params = {key: value for key, value in pairs if value is not None}
        if params:
            body["params"] = params
        return body


def encode_prompt(prompt: Prompt) -> bytes:
    """Serialise a prompt for publishing on `chat/{id}/prompt`."""
    return json.dumps(prompt.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_sendable_prompt(prompt: Prompt) -> bytes:
    """`encode_prompt`, refusing (`ProtocolError` `payload_too_large`) a prompt over AWS IoT's 128 KB payload
    limit before anything is published: the broker would drop the connection instead of answering."""
    payload = encode_prompt(prompt)
    if len(payload) > AWS_IOT_MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            E_PAYLOAD_TOO_LARGE,
            f"the prompt is {len(payload)} bytes as JSON; AWS IoT accepts at most "
            f"{AWS_IOT_MAX_PAYLOAD_BYTES} bytes per message",
            rid=prompt.rid,
        )
    return payload


def _load_object(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(E_INVALID_UTF8, f"payload is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError(E_INVALID_JSON, f"payload is not JSON: {exc.msg} at char {exc.pos}") from None
    except RecursionError:
        raise ProtocolError(E_INVALID_JSON, "payload is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(E_NOT_AN_OBJECT, f"payload must be a JSON object, got {type(value).__name__}")
    return value


def _recover_rid(body: Mapping[str, Any]) -> str | None:
    rid = body.get("rid")
    return rid if isinstance(rid, str) and _RID_RE.fullmatch(rid) else None


def parse_prompt(
    raw: bytes | str | Mapping[str, Any], *, max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
) -> Prompt:
    """Validate a prompt. Unknown top-level keys are ignored (the IoT rule adds `identity_id`).

    Raises `ProtocolError` whose `rid` is set when the bad prompt still carried a usable rid.
    """
    body = _load_object(raw)
    rid = _recover_rid(body)

    def fail(code: str, message: str) -> ProtocolError:
        return ProtocolError(code, message, rid=rid)

    if "v" not in body:
        raise fail(E_MISSING_FIELD, "missing field 'v' (protocol version)")
    version = body["v"]
    if isinstance(version, bool) or version != PROTOCOL_VERSION:
        raise fail(E_UNSUPPORTED_VERSION, f"unsupported protocol version {version!r}; this service speaks v1")
    if "rid" not in body:
        raise fail(E_MISSING_FIELD, "missing field 'rid' (request id, a UUID)")
    if rid is None:
        raise fail(E_INVALID_RID, "field 'rid' must be a UUID string like 0b8e…-…")
    if "text" not in body:
        raise fail(E_MISSING_FIELD, "missing field 'text'")
    text = body["text"]
    if not isinstance(text, str) or not text.strip():
        raise fail(E_INVALID_FIELD, "field 'text' must be a non-empty string")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise fail(E_INVALID_UTF8, "field 'text' contains unpaired surrogates") from None
    if size > max_text_bytes:
        raise fail(E_TEXT_TOO_LONG, f"field 'text' is {size} bytes of UTF-8; the limit is {max_text_bytes}")
    conversation = body.get("conversation")
    if conversation is not None and (
        not isinstance(conversation, str) or not _CONVERSATION_RE.fullmatch(conversation)
    ):
        raise fail(E_INVALID_FIELD, "field 'conversation' must be 1-128 characters of A-Z a-z 0-9 _ . : -")
    return Prompt(
        rid=rid, text=text, conversation=conversation, params=_parse_params(body.get("params"), fail)
    )


def _parse_params(raw: Any, fail: Any) -> Params:
    if raw is None:
        return Params()
    if not isinstance(raw, dict):
        raise fail(E_INVALID_FIELD, "field 'params' must be an object")
    unknown = sorted(set(raw) - {"max_tokens", "temperature"})
    if unknown:
        raise fail(E_INVALID_FIELD, f"unknown params {unknown}; known: max_tokens, temperature")
    max_tokens = raw.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= MAX_TOKENS_LIMIT
    ):
        raise fail(E_INVALID_FIELD, f"params.max_tokens must be an integer from 1 to {MAX_TOKENS_LIMIT}")
    temperature = raw.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or not 0 <= temperature <= 2
    ):
        raise fail(E_INVALID_FIELD, "params.temperature must be a number from 0 to 2")
    return Params(max_tokens=max_tokens, temperature=None if temperature is None else float(temperature))


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """A cancel request (client → `chat/{id}/cancel`): `{"v":1,"rid":"<uuid>"}` (`v` optional)."""

    rid: str


def parse_cancel(raw: bytes | str | Mapping[str, Any]) -> CancelRequest:
    """Validate a cancel request; unknown keys are ignored (the IoT rule adds `identity_id`)."""
    body = _load_object(raw)
    if "v" in body and (isinstance(body["v"], bool) or body["v"] != PROTOCOL_VERSION):
        raise ProtocolError(E_UNSUPPORTED_VERSION, f"unsupported protocol version {body['v']!r}")
    rid = _recover_rid(body)
    if rid is None:
        raise ProtocolError(E_INVALID_RID if "rid" in body else E_MISSING_FIELD, "cancel needs 'rid', a UUID")
    return CancelRequest(rid=rid)


# --------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the model (0 when the provider does not report them)."""

    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Start:
    """First event of every stream."""

    rid: str
    seq: int
    model: str
    ts: int
    """Server time in epoch milliseconds."""
    text: str = ""
    """The first answer text, when it was ready in time (coalescing saves a message); usually empty."""


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of answer text; concatenating every delta in `seq` order gives the answer."""

    rid: str
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class End:
    """Terminal event of a stream that produced an answer (possibly cut short)."""

    rid: str
    seq: int
    stop: StopReason
    usage: Usage = field(default_factory=Usage)
    metrics: Mapping[str, float | int] = field(default_factory=dict)
    text: str = ""
    """The last answer text, when it was still waiting as the model finished; concatenate like a delta."""


@dataclass(frozen=True, slots=True)
class Error:
    """Terminal event of a stream that failed; `message` is safe to show to the user."""

    rid: str
    seq: int
    code: str
    message: str
    retry_after_ms: int | None = None
    """For `rate_limited` / `too_many_streams`: wait at least this long before sending the prompt again."""


Event = Start | Delta | End | Error


def event_text(event: Event) -> str:
    """The answer text an event carries (`delta`, and `start`/`end` when coalescing folded text into them)."""
    return "" if isinstance(event, Error) else event.text


TerminalEvent = End | Error


def is_terminal(event: Event) -> bool:
    """True for the events that end a stream (`end` and `error`)."""
    return isinstance(event, End | Error)


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON object of an event (`type` names the event)."""
    base: dict[str, Any] = {"v": PROTOCOL_VERSION, "rid": event.rid, "seq": event.seq}
    if isinstance(event, Start):
        start = {**base, "type": "start", "model": event.model, "ts": event.ts}
        return {**start, "text": event.text} if event.text else start
    if isinstance(event, Delta):
        return {**base, "type": "delta", "text": event.text}
    if isinstance(event, End):
        usage = {"input_tokens": event.usage.input_tokens, "output_tokens": event.usage.output_tokens}
        end = {**base, "type": "end", "stop": event.stop, "usage": usage, "metrics": dict(event.metrics)}
        return {**end, "text": event.text} if event.text else end
    error = {**base, "type": "error", "code": event.code, "message": event.message}
    return error if event.retry_after_ms is None else {**error, "retry_after_ms": event.retry_after_ms}


def encode_event(event: Event) -> bytes:
    """Serialise an event as compact UTF-8 JSON (the MQTT payload)."""
    return json.dumps(event_to_json(event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is None:
        raise ProtocolError(E_MISSING_FIELD, f"event is missing field {name!r}")
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise ProtocolError(E_INVALID_FIELD, f"event field {name!r} has the wrong type")
    return value


def _text(body: Mapping[str, Any]) -> str:
    """The optional `text` of `start` and `end` (absent = empty)."""
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ProtocolError(E_INVALID_FIELD, "event field 'text' must be a string")
    return text


def decode_event(raw: bytes | str | Mapping[str, Any]) -> Event:
    """Parse a response event (clients). Raises `ProtocolError` for anything that is not a v1 event."""
    body = _load_object(raw)
    if body.get("v") != PROTOCOL_VERSION or isinstance(body.get("v"), bool):
        raise ProtocolError(E_UNSUPPORTED_VERSION, f"unsupported event version {body.get('v')!r}")
    rid = _field(body, "rid", str)
    seq = _field(body, "seq", int)
    if seq < 0:
        raise ProtocolError(E_INVALID_FIELD, "event field 'seq' must be >= 0")
    kind = body.get("type")
    if kind == "start":
        return Start(
            rid=rid, seq=seq, model=_field(body, "model", str), ts=_field(body, "ts", int), text=_text(body)
        )
    if kind == "delta":
        return Delta(rid=rid, seq=seq, text=_field(body, "text", str))
    if kind == "end":
        stop = _field(body, "stop", str)
        if stop not in STOP_REASONS:
            raise ProtocolError(E_INVALID_FIELD, f"unknown stop reason {stop!r}")
        usage = body.get("usage") or {}
        metrics = body.get("metrics") or {}
        if not isinstance(usage, dict) or not isinstance(metrics, dict):
            raise ProtocolError(E_INVALID_FIELD, "event fields 'usage' and 'metrics' must be objects")
        return End(
            rid=rid,
            seq=seq,
            stop=stop,  # checked against STOP_REASONS above
            usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
            metrics=metrics,
            text=_text(body),
        )
    if kind == "error":
        retry_after = body.get("retry_after_ms")
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, int)):
            raise ProtocolError(E_INVALID_FIELD, "event field 'retry_after_ms' must be an integer")
        return Error(
            rid=rid,
            seq=seq,
            code=_field(body, "code", str),
            message=_field(body, "message", str),
            retry_after_ms=retry_after,
        )
    raise ProtocolError(E_INVALID_FIELD, f"unknown event type {kind!r}")


# --------------------------------------------------------------------------------------- topics


def _level(value: str, what: str) -> str:
    if not value or _TOPIC_LEVEL_FORBIDDEN & set(value):
        raise ProtocolError(
            E_INVALID_FIELD, f"{what} {value!r} cannot be a topic level (empty, or has / + # NUL)"
        )
    return value


def prompt_topic(identity_id: str) -> str:
    """`chat/{identity_id}/prompt`: where a user publishes prompts."""
    return f"chat/{_level(identity_id, 'identity id')}/prompt"


def cancel_topic(identity_id: str) -> str:
    """`chat/{identity_id}/cancel`: where a user publishes `{"rid": ...}` to cancel a stream."""
    return f"chat/{_level(identity_id, 'identity id')}/cancel"


def response_topic(identity_id: str, rid: str) -> str:
    """`chat/{identity_id}/response/{rid}`: where the events of one request are published."""
    return f"chat/{_level(identity_id, 'identity id')}/response/{_level(rid, 'request id')}"


def response_filter(identity_id: str) -> str:
    """`chat/{identity_id}/response/+`: the subscription that receives every answer of a user."""
    return f"chat/{_level(identity_id, 'identity id')}/response/+"
