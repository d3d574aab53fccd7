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
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from clients.errors import PolicyDeniedError
from clients.feed_state import FeedState, FeedTotals
from clients.session import Session
from clients.transport import ConnectOptions, StatusHandler, Transport, TransportName, open_transport
from streaming.errors import ProtocolError
from streaming.status import StreamStatus, dashboard_topic, decode_status

DEFAULT_TIMEOUT_S = 20.0


class _ShardConnections:
    """The connections of one dashboard; accepted updates go to `push` (on the transports' threads)."""

    def __init__(
        self,
        session: Session,
        push: Callable[[StreamStatus], None],
        shards: int | None,
        transport: TransportName,
        timeout: float,
        on_status: StatusHandler | None,
    ) -> None:
        self.session = session
        self.shards = shards or session.config.dashboard_shards
        self.timeout = timeout
        self.instance = secrets.token_hex(3)
        self.state = FeedState()
        self._lock = threading.Lock()
        self._push = push
        self.client_ids = [session.client_id(f"dash{shard}-{self.instance}") for shard in range(self.shards)]
        self._transports: list[Transport] = [
            open_transport(transport, session, ConnectOptions(client_id), self._received, on_status)
            for client_id in self.client_ids
        ]

    def connect(self) -> None:
        """Connect and subscribe every shard (in parallel); any refusal stops them all and is raised."""
        with ThreadPoolExecutor(max_workers=self.shards) as pool:
            outcomes = list(pool.map(self._open, range(self.shards)))
        failures = [outcome for outcome in outcomes if outcome is not None]
        if failures:
            self.close()
            raise failures[0]

    def _open(self, shard: int) -> BaseException | None:
        transport = self._transports[shard]
        try:
            transport.start(self.timeout)
            transport.subscribe(dashboard_topic(shard), self.timeout)
        except Exception as error:  # noqa: BLE001 (collected and re-raised by connect)
            return error
        return None

    def close(self) -> None:
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


class DashboardFeed:
    """The synchronous flavour: iterate for updates, or poll `next_update(timeout)` between redraws."""

    def __init__(
        self,
        session: Session,
        *,
        shards: int | None = None,
        transport: TransportName = "mqtt5",
        timeout: float = DEFAULT_TIMEOUT_S,
        on_status: StatusHandler | None = None,
    ) -> None:
        self._queue: queue.Queue[StreamStatus] = queue.Queue()
        self._connections = _ShardConnections(session, self._queue.put, shards, transport, timeout, on_status)
        self.shards = self._connections.shards
        self.client_ids = self._connections.client_ids  # connection k: `{identityId}-dash{k}-{instance}`

    def connect(self) -> DashboardFeed:
        """Open every shard; PolicyDeniedError for a user outside the `dashboard` group."""
        try:
            self._connections.connect()
        except PolicyDeniedError as error:
            raise _not_a_dashboard_user(self._connections.session, error) from None
        return self

    def close(self) -> None:
        self._connections.close()

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

    def snapshot(self) -> tuple[list[StreamStatus], FeedTotals, list[int]]:
        return self._connections.snapshot()

    @property
    def state(self) -> FeedState:
        return self._connections.state


class AsyncDashboardFeed:
    """The asyncio flavour: `async with AsyncDashboardFeed(session) as feed: async for status in feed`."""

    def __init__(
        self,
        session: Session,
        *,
        shards: int | None = None,
        transport: TransportName = "mqtt5",
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[StreamStatus] = asyncio.Queue()
        self._connections = _ShardConnections(session, self._push, shards, transport, timeout, None)
        self.shards = self._connections.shards

    def _push(self, status: StreamStatus) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is reading any more
                self._loop.call_soon_threadsafe(self._queue.put_nowait, status)

    async def __aenter__(self) -> AsyncDashboardFeed:
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self._connections.connect)
        except PolicyDeniedError as error:
            raise _not_a_dashboard_user(self._connections.session, error) from None
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self._connections.close)

    async def __aiter__(self) -> AsyncIterator[StreamStatus]:
        while True:
            yield await self._queue.get()

    def snapshot(self) -> tuple[list[StreamStatus], FeedTotals, list[int]]:
        return self._connections.snapshot()


def _not_a_dashboard_user(session: Session, error: PolicyDeniedError) -> PolicyDeniedError:
    return PolicyDeniedError(
        f"{session.username} may not read the dashboard feed ({error}); "
        "dashboards need a user in the Cognito group `dashboard`",
        error.reason_code,
    )
