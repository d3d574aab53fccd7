"""The bytes queued for one client and not yet written, counted so that a client that never reads cannot make
the broker hold more than a bound.

Every packet is charged its length plus `PACKET_OVERHEAD`, what holding it costs beyond its bytes (the
`bytes` object's header and the deque's slot): a flood of 2-byte PINGRESPs is then bounded by memory, not by
packet count. Deliveries may fill half of the bound (`fits_delivery`), so replies to the client's own
packets always have room; a reply over the whole bound means the client is not reading (`append` says so).
"""

from __future__ import annotations

from collections import deque

PACKET_OVERHEAD = 64


class OutboundQueue:
    """Packets waiting for the writer, and what they cost."""

    __slots__ = ("_packets", "limit", "size")

    def __init__(self, limit: int) -> None:
        self._packets: deque[bytes] = deque()
        self.limit = limit
        self.size = 0  # bytes charged for what is queued

    def __len__(self) -> int:
        return len(self._packets)

    def append(self, data: bytes) -> bool:
        """Queue one packet; False when the queue is now over its bound (one packet alone never is: a packet
        larger than the bound is still within the maximum packet size)."""
        packets = self._packets
        packets.append(data)
        self.size += len(data) + PACKET_OVERHEAD
        return self.size <= self.limit or len(packets) == 1

    def fits_delivery(self, size: int) -> bool:
        """Whether a delivery of `size` bytes may be queued: within half the bound, or into an empty queue (so a
        packet larger than half the bound is still delivered, alone)."""
        return not self._packets or self.size + size + PACKET_OVERHEAD <= self.limit // 2

    def take(self) -> bytes:
        """Everything queued, as one string of bytes (b"" when nothing is); the queue is empty afterwards."""
        packets = self._packets
        if not packets:
            return b""
        data = packets.popleft() if len(packets) == 1 else b"".join(packets)
        packets.clear()
        self.size = 0
        return data

    def clear(self) -> None:
        self._packets.clear()
        self.size = 0
