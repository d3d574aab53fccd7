"""Drive `ServerProtocol` without sockets: encoded packets and a fake clock in, the server's bytes out."""

from __future__ import annotations

from typing import Any

from localcore.broker import codec
from localcore.broker.broker import Broker
from localcore.broker.connect import Peer
from localcore.broker.message import Message
from localcore.broker.protocol import Closing, Event, ServerProtocol

T0 = 1000.0  # the fake clock's start; any value works, deadlines are relative to it


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class Wire:
    """One client's end of a ServerProtocol: what it sends goes in at the clock's time; what the server queued
    comes out as bytes, and the I/O callbacks are counted."""

    def __init__(self, broker: Broker, clock: FakeClock, source_ip: str = "192.0.2.10") -> None:
        self.clock = clock
        self.protocol = ServerProtocol(broker, Peer("tcp", source_ip), clock.now, clock=clock)
        self.wakeups = 0
        self.closings = 0
        self.protocol.on_output = self._on_output
        self.protocol.on_closing = self._on_closing

    def _on_output(self) -> None:
        self.wakeups += 1

    def _on_closing(self) -> None:
        self.closings += 1

    def send(self, *packets: bytes) -> None:
        self.protocol.receive_data(b"".join(packets), self.clock.now)

    def take(self) -> bytes:
        """Everything the server queued since the last call."""
        return self.protocol.data_to_send()

    def packets(self) -> list[tuple[int, bytes]]:
        """What the server queued, cut into (first byte, body) packets."""
        return codec.PacketSplitter(1 << 24).feed(self.take())

    def events(self) -> list[Event]:
        return self.protocol.events_received()

    def closing(self) -> Closing:
        """The one Closing event (fails the test when the connection did not close)."""
        closings = [event for event in self.events() if isinstance(event, Closing)]
        assert len(closings) == 1, closings
        return closings[0]

    def connect(self, client_id: str, level: int = codec.MQTT311, **options: Any) -> bytes:
        """CONNECT (options: `codec.encode_connect`'s); returns the CONNACK bytes."""
        self.send(codec.encode_connect(client_id, level, **options))
        return self.take()


def record(broker: Broker) -> list[Message]:
    """Every message the broker accepts (lifecycle events included), as the rules engine sees them."""
    messages: list[Message] = []
    broker.add_listener(messages.append)
    return messages
