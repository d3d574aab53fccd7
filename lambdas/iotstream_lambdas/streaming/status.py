"""The dashboard feed's message: one stream's status on `dashboard/streams/{shard}` (docs/protocol.md).

Shared by the producer (`iotstream_lambdas.streaming.dashboard_feed`) and every consumer (dashboards, benchmarks). Each
update carries the whole current state of its stream, numbered by `n` from 0, so a consumer keeps the
update with the highest `n` per rid (`FeedView`) and a missed update is healed by the next one.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import E_INVALID_FIELD, PROTOCOL_VERSION, STOP_REASONS, StopReason

DEFAULT_DASHBOARD_SHARDS: Final = 8
DASHBOARD_TOPIC_PREFIX: Final = "dashboard/streams/"
STATUS_TYPE: Final = "status"

StatusState = Literal["started", "streaming", "end", "error"]
STATES: Final[frozenset[str]] = frozenset({"started", "streaming", "end", "error"})
FINAL_STATES: Final[frozenset[str]] = frozenset({"end", "error"})


def dashboard_shards(environment: Mapping[str, str]) -> int:
    """The shard count the prompt function uses: its `DASHBOARD_SHARDS` variable (default 8), published to
    clients by localcore's endpoints and the CDK outputs."""
    raw = environment.get("DASHBOARD_SHARDS") or str(DEFAULT_DASHBOARD_SHARDS)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"DASHBOARD_SHARDS={raw!r}: expected a whole number >= 1")
    return int(raw)


def shard_of(rid: str, shards: int = DEFAULT_DASHBOARD_SHARDS) -> int:
    """The shard a stream's updates go to: CRC-32 of the rid, modulo the shard count (stable everywhere)."""
    return zlib.crc32(rid.encode("utf-8")) % shards


def dashboard_topic(shard: int) -> str:
    """`dashboard/streams/{shard}`: the topic connection `shard` of every dashboard subscribes to."""
    return f"{DASHBOARD_TOPIC_PREFIX}{shard}"


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """One update of one stream. `ttft_ms`/`tokens_per_s` are None until known (absent on the wire); `stop` is
    set for `end` only, `code` for `error` only."""

    rid: str
    identity: str
    n: int
    state: StatusState
    model: str
    started: int
    """Epoch ms when the stream started."""
    ts: int
    """Epoch ms of this update."""
    tokens: int
    messages: int
    """Messages published on the user's response topic so far."""
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    stop: StopReason | None = None
    code: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "type": STATUS_TYPE,
            "rid": self.rid,
            "identity": self.identity,
            "n": self.n,
            "state": self.state,
            "model": self.model,
            "started": self.started,
            "ts": self.ts,
            "tokens": self.tokens,
            "messages": self.messages,
        }
        optional = (
            ("ttft_ms", self.ttft_ms),
            ("tokens_per_s", self.tokens_per_s),
            ("stop", self.stop),
            ("code", self.code),
        )
        body.update((key, value) for key, value in optional if value is not None)
        return body


def encode_status(status: StreamStatus) -> bytes:
    """Compact UTF-8 JSON for publishing."""
    return json.dumps(status.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _get(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProtocolError(E_INVALID_FIELD, f"status field {name!r} is missing or has the wrong type")
    return value


def decode_status(raw: bytes | str | Mapping[str, Any]) -> StreamStatus:
    """Parse one feed message; `ProtocolError` for anything that is not a v1 status update."""
    try:
        body = json.loads(raw) if isinstance(raw, bytes | str) else raw
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ProtocolError(E_INVALID_FIELD, "status update is not JSON") from None
    if not isinstance(body, Mapping) or body.get("v") != PROTOCOL_VERSION or body.get("type") != STATUS_TYPE:
        raise ProtocolError(E_INVALID_FIELD, "not a v1 status update")
    state = _get(body, "state", str)
    stop = _get(body, "stop", str, optional=True)
    if state not in STATES or (stop is not None and stop not in STOP_REASONS):
        raise ProtocolError(E_INVALID_FIELD, f"unknown state {state!r} or stop {stop!r}")
    ttft, rate = (_get(body, key, (int, float), optional=True) for key in ("ttft_ms", "tokens_per_s"))
    return StreamStatus(
        rid=_get(body, "rid", str),
        identity=_get(body, "identity", str),
        n=_get(body, "n", int),
        state=state,
        model=_get(body, "model", str),
        started=_get(body, "started", int),
        ts=_get(body, "ts", int),
        tokens=_get(body, "tokens", int),
        messages=_get(body, "messages", int),
        ttft_ms=None if ttft is None else float(ttft),
        tokens_per_s=None if rate is None else float(rate),
        stop=stop,
        code=_get(body, "code", str, optional=True),
    )


class FeedView:
    """What a dashboard knows: per rid, the update with the highest `n` (duplicates and reordering, which
    AWS IoT allows at QoS 1, change nothing)."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamStatus] = {}

    def apply(self, status: StreamStatus) -> bool:
        """Keep `status` if it is newer than what is known for its rid; True when it was kept."""
        known = self.streams.get(status.rid)
        if known is not None and known.n >= status.n:
            return False
        self.streams[status.rid] = status
        return True

    def live(self) -> list[StreamStatus]:
        return [s for s in self.streams.values() if not s.final]

    def finished(self) -> list[StreamStatus]:
        return [s for s in self.streams.values() if s.final]
