"""Read the dashboard feed: one MQTT connection per shard, every stream's status, sync or asyncio.

AWS IoT delivers at most 100 publishes per second per connection and discards the excess
(https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits), so the feed is
sharded: connection k subscribes `dashboard/streams/{k}` only (docs/protocol.md "Dashboard feed").
Client ids are `{identityId}-dash{k}-{instance}`: the policies allow `{identityId}-*`, and the random
instance part lets one user run several dashboards without taking over each other's connections.

    with DashboardFeed(session) as feed:          # a user of the `dashboard` group
        for status in feed:                       # StreamStatus updates that are news, as they arrive
            print(status.rid, status.state, status.tokens)
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from clients.errors import PolicyDeniedError
from clients.feed_state import FeedState, FeedTotals
from clients.open_transport import open_transport
from clients.session import Session
from clients.transport import ConnectOptions, StatusHandler, Transport, TransportName
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.status import StreamStatus, dashboard_topic, decode_status

DEFAULT_TIMEOUT_S = 20.0


class _Feed:
    """The connections of one dashboard and what they received; subclasses deliver the news (`_push`)."""

    def __init__(
        self,
        session: Session,
        *,
        shards: int | None = None,
        transport: TransportName = "mqtt5",
        timeout: float = DEFAULT_TIMEOUT_S,
        on_status: StatusHandler | None = None,
    ) -> None:
        self.session = session
        self.shards = shards or session.config.dashboard_shards
        self.timeout = timeout
        self.instance = secrets.token_hex(3)
        self.state = FeedState()
        self._lock = threading.Lock()
        # connection k: `{identityId}-dash{k}-{instance}`
        self.client_ids = [session.client_id(f"dash{shard}-{self.instance}") for shard in range(self.shards)]
        self._transports: list[Transport] = [
            open_transport(transport, session, ConnectOptions(client_id), self._received, on_status)
            for client_id in self.client_ids
        ]
        self._open_queue()

    def _open_queue(self) -> None:
        raise NotImplementedError

    def _push(self, status: StreamStatus) -> None:
        raise NotImplementedError

    def _connect(self) -> None:
        """Connect and subscribe every shard (in parallel); any refusal stops them all and is raised."""
        with ThreadPoolExecutor(max_workers=self.shards) as pool:
            failures = [error for error in pool.map(self._open, range(self.shards)) if error is not None]
        if failures:
            self._close()
            error = failures[0]
            if isinstance(error, PolicyDeniedError):
                raise PolicyDeniedError(
                    f"{self.session.username} may not read the dashboard feed ({error}); "
                    "dashboards need a user in the Cognito group `dashboard`",
                    error.reason_code,
                )
            raise error

    def _open(self, shard: int) -> BaseException | None:
        transport = self._transports[shard]
        try:
            transport.start(self.timeout)
            transport.subscribe(dashboard_topic(shard), self.timeout)
        except Exception as error:  # noqa: BLE001 (collected and re-raised by _connect)
            return error
        return None

    def _close(self) -> None:
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.stop()

    def _received(self, topic: str, payload: bytes) -> None:
        try:
            status = decode_status(payload)
        except ProtocolError:
            with self._lock:
                self.state.ignored += 1
            return
        with self._lock:
            news = self.state.accept(status)
        if news:
            self._push(status)

    def snapshot(self) -> tuple[list[StreamStatus], FeedTotals, list[int]]:
        """Streams (oldest first), totals and the last 30 s of token rate, consistent with each other."""
        with self._lock:
            return self.state.streams, self.state.totals(), self.state.token_rate()


class DashboardFeed(_Feed):
    """The synchronous flavour: iterate for updates, or poll `next_update(timeout)` between redraws."""

    def _open_queue(self) -> None:
        self._queue: queue.Queue[StreamStatus] = queue.Queue()

    def _push(self, status: StreamStatus) -> None:
        self._queue.put(status)

    def connect(self) -> DashboardFeed:
        """Open every shard; PolicyDeniedError for a user outside the `dashboard` group."""
        self._connect()
        return self

    def close(self) -> None:
        self._close()

    def __enter__(self) -> DashboardFeed:
        return self.connect()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def next_update(self, timeout: float | None = None) -> StreamStatus | None:
        """The next update that is news, or None after `timeout` seconds without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def __iter__(self) -> Iterator[StreamStatus]:
        while True:
            yield self._queue.get()


class AsyncDashboardFeed(_Feed):
    """The asyncio flavour: `async with AsyncDashboardFeed(session) as feed: async for status in feed`."""

    _loop: asyncio.AbstractEventLoop

    def _open_queue(self) -> None:
        self._queue: asyncio.Queue[StreamStatus] = asyncio.Queue()

    def _push(self, status: StreamStatus) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is reading any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, status)

    async def __aenter__(self) -> AsyncDashboardFeed:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._connect)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self._close)

    async def __aiter__(self) -> AsyncIterator[StreamStatus]:
        while True:
            yield await self._queue.get()
