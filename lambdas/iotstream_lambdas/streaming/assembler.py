"""Client-side reassembly of one response stream.

AWS IoT does not guarantee order and QoS 1 may deliver a message more than once (AWS IoT developer
guide, mqtt.html "Message ordering"). The assembler releases events strictly in `seq` order, drops
duplicates, reports gaps and, when the caller says time has passed, gives up after an idle timeout.
It does no I/O and reads no clock: the caller passes `now` (any monotonic seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iotstream_lambdas.streaming.errors import StreamingError
from iotstream_lambdas.streaming.wire import End, Error, Event, TerminalEvent, decode_event, is_terminal

DEFAULT_IDLE_TIMEOUT_S = 30.0


class StreamIdleTimeout(StreamingError):
    """No new event arrived for `idle_timeout` seconds before the stream ended."""

    def __init__(self, rid: str | None, idle_for: float, next_seq: int, missing: list[int]) -> None:
        detail = f"; missing seq {missing}" if missing else ""
        super().__init__(
            "idle_timeout", f"no response event for {idle_for:.1f}s (waiting for seq {next_seq}{detail})"
        )
        self.rid = rid
        self.idle_for = idle_for
        self.next_seq = next_seq
        self.missing = missing


@dataclass
class AssemblerStats:
    """What the assembler has seen so far (for diagnostics and tests)."""

    received: int = 0
    duplicates: int = 0
    foreign: int = 0
    after_terminal: int = 0


@dataclass
class StreamAssembler:
    """Reorders, deduplicates and completes the events of one request id.

    `rid=None` binds to the rid of the first event fed.
    """

    rid: str | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S
    now: float = 0.0
    stats: AssemblerStats = field(default_factory=AssemblerStats)
    _pending: dict[int, Event] = field(default_factory=dict, repr=False)
    _released: list[Event] = field(default_factory=list, repr=False)
    _text: list[str] = field(default_factory=list, repr=False)
    _next_seq: int = 0
    _terminal_seq: int | None = None
    _terminal: TerminalEvent | None = None
    _last_progress: float = field(init=False)
    _timeout: StreamIdleTimeout | None = None

    def __post_init__(self) -> None:
        self._last_progress = self.now

    # ------------------------------------------------------------------ feeding

    def feed_payload(self, payload: bytes | str | dict[str, Any], now: float) -> list[Event]:
        """Decode an MQTT payload and feed it. Raises `ProtocolError` for a payload that is not an event."""
        return self.feed(decode_event(payload), now)

    def feed(self, event: Event, now: float) -> list[Event]:
        """Accept one event in any order; return the events this makes available, in `seq` order."""
        if self.rid is None:
            self.rid = event.rid
        if event.rid != self.rid:
            self.stats.foreign += 1
            return []
        if self.done or self._timeout is not None:
            self.stats.after_terminal += 1
            return []
        if event.seq < self._next_seq or event.seq in self._pending:
            self.stats.duplicates += 1
            return []
        if self._terminal_seq is not None and event.seq > self._terminal_seq:
            self.stats.after_terminal += 1
            return []
        self.stats.received += 1
        self._last_progress = now
        self._pending[event.seq] = event
        if is_terminal(event):
            self._terminal_seq = event.seq
            for seq in [s for s in self._pending if s > event.seq]:
                del self._pending[seq]
                self.stats.after_terminal += 1
        return self._release()

    def _release(self) -> list[Event]:
        out: list[Event] = []
        while self._next_seq in self._pending:
            event = self._pending.pop(self._next_seq)
            self._next_seq += 1
            out.append(event)
            if not isinstance(event, Error) and event.text:
                self._text.append(event.text)
            if isinstance(event, End | Error):
                self._terminal = event
        self._released.extend(out)
        return out

    # ------------------------------------------------------------------ time

    def check_idle(self, now: float) -> StreamIdleTimeout | None:
        """Return (and remember) the idle timeout once `idle_timeout` seconds passed without progress."""
        if self.done:
            return None
        if self._timeout is None and now - self._last_progress >= self.idle_timeout:
            self._timeout = StreamIdleTimeout(
                self.rid, now - self._last_progress, self._next_seq, self.missing
            )
        return self._timeout

    # ------------------------------------------------------------------ state

    @property
    def done(self) -> bool:
        """True once the terminal event and every event before it have been released."""
        return self._terminal is not None

    @property
    def terminal(self) -> TerminalEvent | None:
        """The released `end` or `error` event, if any."""
        return self._terminal

    @property
    def timed_out(self) -> StreamIdleTimeout | None:
        """The idle timeout reported by `check_idle`, if it fired."""
        return self._timeout

    @property
    def text(self) -> str:
        """The answer text released so far (deltas in order)."""
        return "".join(self._text)

    @property
    def events(self) -> list[Event]:
        """Every event released so far, in order."""
        return list(self._released)

    @property
    def next_seq(self) -> int:
        """The sequence number the assembler is waiting for."""
        return self._next_seq

    @property
    def missing(self) -> list[int]:
        """Sequence numbers not yet seen although a later one has arrived (a gap)."""
        if not self._pending:
            return []
        highest = max(self._pending)
        return [seq for seq in range(self._next_seq, highest) if seq not in self._pending]
