"""One stream in flight: the model's reader thread and the facts the controller and the feed read.

The reader hands text straight to the publisher (no thread hand-off per chunk: at 100 tokens/s those cost
more CPU than the text); the controller thread wakes only for the model's end or failure and for its own
checks (heartbeat, cancel, the Lambda's deadline). Closing the run under its lock guarantees that no text
reaches the publisher after the controller decided how the stream ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from iotstream_lambdas.streaming.dashboard_feed import Progress
from iotstream_lambdas.streaming.errors import ProviderError
from iotstream_lambdas.streaming.llm.base import Chunk, Finish, TextChunk
from iotstream_lambdas.streaming.publisher import CoalescingPublisher
from iotstream_lambdas.streaming.wire import StopReason, Usage

RATE_MIN_WINDOW_S = 0.1
Outcome = Finish | ProviderError | BaseException
"""What ends the model's side of a stream: it finished, failed as documented, or failed unexpectedly."""


@dataclass
class StreamRun:
    """Mutable facts about one stream: the text and timings (written by the reader under `lock`), and how it
    ended (written by the controller)."""

    started: float
    clock: Callable[[], float]
    publisher: CoalescingPublisher
    first_token_at: float | None = None
    last_token_at: float | None = None
    chunks: int = 0
    text: list[str] = field(default_factory=list)
    stop: StopReason | None = None
    usage: Usage | None = None
    error: tuple[str, str] | None = None
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_text(self, text: str) -> bool:
        """From the reader: one chunk of answer text. False once the run is closed (stop reading)."""
        with self.lock:
            if self.closed:
                return False
            now = self.clock()
            if self.first_token_at is None:
                self.first_token_at = now
            self.last_token_at = now
            self.chunks += 1
            self.text.append(text)
            self.publisher.add_text(text)
            return True

    def close(self) -> None:
        """No more text: the controller is about to end the stream."""
        with self.lock:
            self.closed = True

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


class ModelReader:
    """Pulls the model in its own thread, so the controller can react to cancel and the deadline."""

    def __init__(self, chunks: Iterator[Chunk], run: StreamRun, logger: Logger) -> None:
        self.outcome: queue.Queue[Outcome] = queue.Queue(maxsize=1)
        self._chunks = chunks
        self._run_state = run
        self._logger = logger
        self._thread = threading.Thread(target=self._run, name="model-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for chunk in self._chunks:
                if isinstance(chunk, TextChunk):
                    if not self._run_state.take_text(chunk.text):
                        return
                elif isinstance(chunk, Finish):
                    self.outcome.put(chunk)
                    return
            self.outcome.put(Finish("end_turn", Usage(0, self._run_state.chunks)))  # a model without Finish
        except ProviderError as exc:
            self._logger.warning(
                "provider error", extra={"code": exc.code, "error": str(exc.__cause__ or exc)}
            )
            self.outcome.put(exc)
        except Exception as exc:  # thread boundary: report it to the controller, never crash
            self._logger.exception("unexpected provider failure")
            self.outcome.put(exc)
        finally:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()

    def wait(self, timeout: float) -> Outcome | None:
        """The model's outcome, or None when it is still going after `timeout` seconds."""
        try:
            return self.outcome.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
