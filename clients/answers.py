"""One streamed answer: reassembled by `seq` as its events arrive, read synchronously or with asyncio.

Events are fed on the transport's thread into a `StreamAssembler` (order, duplicates, gaps, idle timeout:
docs/protocol.md "Delivery rules"), so the answer's state is complete even if its reader stops or is
interrupted; the reader only takes the released events from a queue.

    answer = client.ask("What is MQTT?")
    for delta in answer:              # text as it arrives; ServiceError on an `error` event
        print(delta, end="")
    answer.stop, answer.usage, answer.metrics, answer.ttft_s, answer.tokens_per_s
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

from clients.errors import ClientTimeoutError, ServiceError
from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import End, Error, Event, StopReason, Usage, event_text, is_terminal

DEFAULT_IDLE_TIMEOUT_S = 60.0  # no event for this long: the answer is given up (the model may be loading)
POLL_S = 0.1  # how often a waiting reader checks the idle timeout


class AnswerState:
    """The answer to one prompt (`rid`), fed by `deliver` on the transport's thread."""

    def __init__(
        self,
        rid: str,
        conversation: str | None,
        cancel: Callable[[], None],
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rid = rid
        self.conversation = conversation
        self._cancel = cancel
        self._clock = clock
        self._lock = threading.Lock()
        self.asked_at = clock()
        self.first_text_at: float | None = None
        self.finished_at: float | None = None
        self.skipped = 0  # payloads on our topic that were not protocol events
        self._assembler = StreamAssembler(rid=rid, idle_timeout=idle_timeout, now=self.asked_at)
        self._ready: deque[Event] = deque()
        self._read_terminal = False
        self._open_queue()

    def _open_queue(self) -> None:
        """The queue the transport's thread fills with released events (sync or asyncio)."""
        raise NotImplementedError

    def mark_sent(self) -> None:
        """The prompt was just published: time to first token counts from here."""
        self.asked_at = self._clock()

    def deliver(self, payload: bytes) -> None:
        """A payload from `chat/{id}/response/{rid}` (any order, duplicates allowed)."""
        with self._lock:
            now = self._clock()
            try:
                released = self._assembler.feed_payload(payload, now)
            except ProtocolError:
                self.skipped += 1
                return
            if self.first_text_at is None and any(event_text(event) for event in released):
                self.first_text_at = now
            if self._assembler.done:
                self.finished_at = now
            if released:
                self._push(released)  # under the lock: batches reach the reader in release order

    def _push(self, events: list[Event]) -> None:
        raise NotImplementedError

    def _idle_error(self) -> ClientTimeoutError | None:
        with self._lock:
            timeout = self._assembler.check_idle(self._clock())
        if timeout is None:
            return None
        return ClientTimeoutError(f"the answer {self.rid} stalled: {timeout.message}")

    @property
    def read_to_end(self) -> bool:
        """True once the reader has taken the terminal event."""
        return self._read_terminal

    def _take(self) -> Event:
        event = self._ready.popleft()
        self._read_terminal = is_terminal(event)
        return event

    # ------------------------------------------------------------------ results

    @property
    def done(self) -> bool:
        return self._assembler.done

    @property
    def text(self) -> str:
        """The answer so far (every text-bearing event in `seq` order)."""
        with self._lock:
            return self._assembler.text

    @property
    def events_received(self) -> list[Event]:
        with self._lock:
            return self._assembler.events

    @property
    def messages(self) -> int:
        """MQTT messages of this answer released so far (duplicates not counted)."""
        with self._lock:
            return self._assembler.next_seq

    @property
    def stop(self) -> StopReason | None:
        terminal = self._assembler.terminal
        return terminal.stop if isinstance(terminal, End) else None

    @property
    def usage(self) -> Usage | None:
        terminal = self._assembler.terminal
        return terminal.usage if isinstance(terminal, End) else None

    @property
    def metrics(self) -> Mapping[str, float | int]:
        """The service's metrics from the `end` event (docs/protocol.md "Metrics")."""
        terminal = self._assembler.terminal
        return terminal.metrics if isinstance(terminal, End) else {}

    @property
    def error(self) -> ServiceError | None:
        terminal = self._assembler.terminal
        if isinstance(terminal, Error):
            return ServiceError(terminal.code, terminal.message, terminal.rid)
        return None

    @property
    def ttft_s(self) -> float | None:
        """Seconds from publishing the prompt to the first text this client received."""
        return None if self.first_text_at is None else self.first_text_at - self.asked_at

    @property
    def tokens(self) -> int:
        usage, metrics = self.usage, self.metrics
        return (usage.output_tokens if usage else 0) or int(metrics.get("tokens", 0))

    @property
    def tokens_per_s(self) -> float | None:
        """Output tokens per second between the first text and the end, as this client saw them."""
        if self.first_text_at is None or self.finished_at is None or not self.tokens:
            return None
        elapsed = self.finished_at - self.first_text_at
        return self.tokens / elapsed if elapsed > 0 else None


class Answer(AnswerState):
    """The synchronous flavour: iterate for text deltas, `events()` for the wire events."""

    def _open_queue(self) -> None:
        self._queue: queue.Queue[list[Event]] = queue.Queue()

    def _push(self, events: list[Event]) -> None:
        self._queue.put(events)

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event in `seq` order; None after `timeout` seconds without one (None: wait) or at the end.

        Raises ClientTimeoutError once the answer has been idle for `idle_timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            if self._read_terminal:
                return None
            left = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic()))
            try:
                self._ready.extend(self._queue.get(timeout=left))
            except queue.Empty:
                error = self._idle_error()
                if error is not None:
                    raise error from None
                if deadline is not None and time.monotonic() >= deadline:
                    return None
        return self._take()

    def events(self) -> Iterator[Event]:
        """The wire events in `seq` order as they arrive, up to the terminal one (resumable after a break)."""
        while (event := self.next_event()) is not None:
            yield event

    def __iter__(self) -> Iterator[str]:
        for event in self.events():
            text = event_text(event)
            if text:
                yield text
        if self.error is not None:
            raise self.error

    def wait(self) -> Answer:
        """Read to the end; raises ServiceError for an `error` event, ClientTimeoutError when it stalls."""
        for _ in self:
            pass
        return self

    def cancel(self) -> None:
        """Publish `{"rid": …}` on `chat/{id}/cancel`; the stream then ends with stop `cancelled`."""
        self._cancel()


class AsyncAnswer(AnswerState):
    """The asyncio flavour: `async for delta in answer`, `await answer.wait()`, `await answer.cancel()`."""

    def _open_queue(self) -> None:
        """Made on the reader's event loop (an AsyncAnswer is created inside a coroutine)."""
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[list[Event]] = asyncio.Queue()

    def _push(self, events: list[Event]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is reading any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, events)

    async def _next(self) -> Event:
        while not self._ready:
            try:
                self._ready.extend(await asyncio.wait_for(self._queue.get(), POLL_S))
            except TimeoutError:
                error = self._idle_error()
                if error is not None:
                    raise error from None
        return self._take()

    async def events(self) -> AsyncIterator[Event]:
        while not self._read_terminal:
            yield await self._next()

    async def __aiter__(self) -> AsyncIterator[str]:
        async for event in self.events():
            text = event_text(event)
            if text:
                yield text
        if self.error is not None:
            raise self.error

    async def wait(self) -> AsyncAnswer:
        async for _ in self:
            pass
        return self

    async def cancel(self) -> None:
        await asyncio.to_thread(self._cancel)
