"""One client connection's I/O: the read loop, the writer task, the deadline timer and the abort.

Everything MQTT happens in the `ServerProtocol` the connection is given (sans-I/O, `protocol.py`): this module
feeds it bytes and time, writes what it queues and ends the transport once it closes. What the protocol queues
is written by a task of its own, so a slow socket never blocks a publisher. Any malformed packet or protocol
violation closes this connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from localcore.broker.authorization import Transport
from localcore.broker.errors import ProtocolError
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.protocol import CLOSING, OPEN, Accepted, ServerProtocol
from localcore.broker.rates import ByteThrottle
from localcore.broker.reasons import RC

log = logging.getLogger("localcore.broker.connection")

_ABORT_AFTER = 5.0  # seconds a closing connection may take to flush before the socket is aborted


class ByteStream(Protocol):
    """A bidirectional byte stream; `read()` returns b"" at end of stream."""

    transport: Transport
    source_ip: str
    handshake_principal: object | None

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def abort(self) -> None: ...


class ClientConnection:
    """Runs one `ServerProtocol` over one `ByteStream`."""

    def __init__(self, protocol: ServerProtocol, stream: ByteStream) -> None:
        self.protocol = protocol
        self.stream = stream
        self.throttled_reads = 0
        self.closed = asyncio.Event()
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._abort_handle: asyncio.TimerHandle | None = None
        protocol.on_output = self._wake.set
        protocol.on_closing = self._abort_later

    def close(self, reason: DisconnectReason, code: int | None = None) -> None:
        """Close from the server side (MQTT 5: DISCONNECT with `code` first when connected)."""
        self.protocol.close(reason, code)

    async def run(self) -> None:
        """Serve the connection until it ends; never raises."""
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        writer = loop.create_task(self._write_loop())
        self._arm_timer()
        throttle = ByteThrottle(protocol.limits.inbound_bytes_per_second)
        try:
            while protocol.state <= OPEN:
                data = await self.stream.read()
                if not data:
                    break
                if protocol.state is OPEN:
                    delay = throttle.delay_for(len(data), loop.time())
                    if delay:
                        self.throttled_reads += 1
                        await asyncio.sleep(delay)  # AWS: throughput over 512 KiB/s is delayed, not dropped
                protocol.receive_data(data, loop.time())
                accepted = any(isinstance(event, Accepted) for event in protocol.events_received())
                if accepted or self._deadline_moved_earlier():
                    self._arm_timer()  # the keep-alive deadline replaced the CONNECT one, or a summary is due
        except ProtocolError as error:  # from the stream itself (a text WebSocket frame)
            protocol.fail(error)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except Exception:  # boundary: one broken connection must never take the broker down
            log.exception("internal error on connection %s", protocol.client_id)
            protocol.close(DisconnectReason.SERVER_ERROR, RC.UNSPECIFIED)
        finally:
            await self._finish(writer)

    async def _finish(self, writer: asyncio.Task[None]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.protocol.connection_lost()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(writer), _ABORT_AFTER)
        except TimeoutError:
            self.stream.abort()
            writer.cancel()
        if self._abort_handle is not None:
            self._abort_handle.cancel()
        self.closed.set()

    async def _write_loop(self) -> None:
        protocol, wake, stream = self.protocol, self._wake, self.stream
        try:
            while True:
                data = protocol.data_to_send()
                if data:
                    await stream.write(data)
                elif protocol.state >= CLOSING:
                    break
                else:
                    wake.clear()
                    await wake.wait()
        except (ConnectionError, OSError):
            pass
        except Exception:  # boundary: a transport error on write ends this connection only
            log.exception("write failed on connection %s", protocol.client_id)
        finally:
            protocol.close(DisconnectReason.CONNECTION_LOST)  # a failed write ends the reading too
            with contextlib.suppress(ConnectionError, OSError):
                await stream.close()

    def _arm_timer(self) -> None:
        """Call `protocol.tick` at its next deadline (CONNECT timeout, then keep-alive)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.protocol.deadline()
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_deadline)

    def _deadline_moved_earlier(self) -> bool:
        deadline = self.protocol.deadline()
        return deadline is not None and (self._timer is None or deadline < self._timer.when())

    def _on_deadline(self) -> None:
        self._timer = None
        self.protocol.tick(asyncio.get_running_loop().time())
        self._arm_timer()

    def _abort_later(self) -> None:
        """The protocol is closing: the writer flushes and closes; a writer stuck on a slow client is aborted."""
        if self._abort_handle is None:
            self._abort_handle = asyncio.get_running_loop().call_later(_ABORT_AFTER, self.stream.abort)
