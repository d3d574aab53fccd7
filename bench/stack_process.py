"""localcore in a child process (its own GIL), with a tap on everything published into its broker.

The benchmark's clients run in the parent; the stack, its broker and its Lambda workers run apart, as with
`iotstream up`, but with the functions' environment chosen by the benchmark (the scripted model's speed and
text). The tap is the producer-side reference: every message the prompt Lambda published through iot-data,
seen by the broker before AWS IoT's per-connection limits apply to any subscriber.

    with StackProcess({"LLM_PROVIDER": "scripted"}, lambda_concurrency=8) as stack:
        stack.endpoints      # localcore's endpoints (the ready file's content)
        stack.mark()         # forget what was published so far
        stack.published()    # after every Lambda finished: what was published since the mark
        stack.usage()        # CPU and memory of localcore's process and of its Lambda workers
        stack.live_blocks()  # localcore's live Python objects (allocated blocks after a full collection)
        stack.wait_idle(60)  # True once every Lambda invocation so far has finished (False: still busy)
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sys
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from bench.proc_usage import Usage, sample
from clients.local_app import local_config
from iotstream_lambdas.streaming.status import DASHBOARD_TOPIC_PREFIX, decode_status
from localcore.broker.message import Message
from localcore.functions import FunctionSettings
from localcore.lambda_runtime import ConcurrencyConfig
from localcore.testing import RunningLocalcore

STARTUP_TIMEOUT_S = 120.0


@dataclass
class Published:
    """What went into the broker since the mark."""

    feed: set[tuple[str, int]] = field(default_factory=set)
    """Every dashboard feed update, as (rid, n)."""
    finals: set[str] = field(default_factory=set)
    """The rids whose final update (`end` or `error`) was published."""
    responses: int = 0
    """Messages published on `chat/+/response/+` (what the old design's dashboard subscribed to)."""
    peak_live_streams: int = 0
    """Most streams between their `started` and final updates at one time."""
    busiest_shard_per_second: int = 0
    """Most feed updates published on one shard topic within one wall-clock second."""


class _Tap:
    """A broker listener (runs on localcore's loop thread) counting what is published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[str] = set()
        self._per_second: dict[tuple[str, int], int] = defaultdict(int)
        self.published = Published()

    def __call__(self, message: Message) -> None:
        topic = message.topic
        with self._lock:
            if topic.startswith("chat/") and "/response/" in topic:
                self.published.responses += 1
            elif topic.startswith(DASHBOARD_TOPIC_PREFIX):
                status = decode_status(message.payload)
                published = self.published
                published.feed.add((status.rid, status.n))
                if status.final:
                    published.finals.add(status.rid)
                    self._live.discard(status.rid)
                else:
                    self._live.add(status.rid)
                published.peak_live_streams = max(published.peak_live_streams, len(self._live))
                key = (topic, status.ts // 1000)
                self._per_second[key] += 1
                published.busiest_shard_per_second = max(
                    published.busiest_shard_per_second, self._per_second[key]
                )

    def reset(self) -> Published:
        with self._lock:
            published, self.published = self.published, Published()
            self._per_second.clear()
            return published


def _serve(environment: dict[str, str], lambda_concurrency: int | None, conn: Connection) -> None:
    """The child: run localcore until told to stop; answer `mark`, `published` and `usage` requests."""
    logging.basicConfig(level=logging.ERROR)  # the broker's per-drop warnings are what the tap counts anyway
    concurrency = ConcurrencyConfig() if lambda_concurrency is None else ConcurrencyConfig(lambda_concurrency)
    settings = FunctionSettings(environment=environment, concurrency=concurrency)
    with RunningLocalcore(local_config(functions=settings)) as stack:
        tap = _Tap()
        stack.core.broker.add_listener(tap)
        conn.send(stack.endpoints)
        while (command := conn.recv()) != "stop":
            if command == "mark":
                tap.reset()
                conn.send(None)
            elif command == "published":
                stack.wait_lambdas_idle(timeout=300)
                conn.send(tap.reset())
            elif command == "usage":
                conn.send(sample())
            elif command == "live_blocks":
                gc.collect()
                conn.send(sys.getallocatedblocks())
            elif isinstance(command, tuple) and command[0] == "idle":
                try:
                    stack.wait_lambdas_idle(timeout=command[1])
                    conn.send(True)
                except TimeoutError:
                    conn.send(False)


class StackProcess:
    """Start localcore in a child process; `endpoints` once it is ready."""

    def __init__(self, environment: Mapping[str, str], *, lambda_concurrency: int | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(dict(environment), lambda_concurrency, child), name="localcore", daemon=True
        )
        self.endpoints: dict[str, Any] = {}

    def __enter__(self) -> StackProcess:
        self._process.start()
        if not self._conn.poll(STARTUP_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("localcore did not start in time")
        self.endpoints = self._conn.recv()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._conn.send("stop")
            self._process.join(60)
        finally:
            if self._process.is_alive():
                self._process.kill()

    @property
    def pid(self) -> int:
        """The stack's process id (its Lambda workers are its child processes)."""
        pid = self._process.pid
        assert pid is not None, "not started"
        return pid

    def mark(self) -> None:
        self._conn.send("mark")
        self._conn.recv()

    def usage(self) -> Usage:
        """CPU so far and memory now, of localcore's process and of its Lambda workers."""
        self._conn.send("usage")
        result: Usage = self._conn.recv()
        return result

    def live_blocks(self) -> int:
        """localcore's live Python objects: CPython's allocated memory blocks after a full collection. Unlike
        the resident size, this returns to its baseline once what a surge allocated is freed."""
        self._conn.send("live_blocks")
        blocks: int = self._conn.recv()
        return blocks

    def wait_idle(self, timeout: float) -> bool:
        """Whether every Lambda invocation so far finished within `timeout` seconds."""
        self._conn.send(("idle", timeout))
        idle: bool = self._conn.recv()
        return idle

    def published(self) -> Published:
        """Once every Lambda invocation has finished: what was published since the last mark (or call)."""
        self._conn.send("published")
        result: Published = self._conn.recv()
        return result
