"""An attacker's MQTT client over a SigV4-presigned WebSocket that sends what it likes and never reads.

paho and awscrt read everything the broker sends; a hostile client does not. This one does the WebSocket
handshake with websockets' sans-I/O `ClientProtocol` on a plain socket with a 4 KB receive buffer, then only
writes MQTT packets in binary frames: the broker's replies pile up on its side, as from a client that stopped
reading.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from clients.session import Session
from localcore.broker import codec

RECEIVE_BUFFER = 4096


class NeverReadingClient:
    """`with NeverReadingClient(session, "flood") as client: client.send(packets)`."""

    def __init__(self, session: Session, suffix: str, level: int = codec.MQTT5) -> None:
        signed = session.presigned_url()
        self.client_id = session.client_id(suffix)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.sock.connect((signed.host, signed.port))
        self.sock.settimeout(5)
        self._ws = ClientProtocol(parse_uri(signed.url), subprotocols=[Subprotocol("mqtt")])
        self._ws.send_request(self._ws.connect())
        self._flush()
        self._handshake()
        self.send(codec.encode_connect(self.client_id, level))

    def _flush(self) -> None:
        for data in self._ws.data_to_send():
            self.sock.sendall(data)

    def _handshake(self) -> None:
        """Read the upgrade answer only; everything after it stays unread."""
        while not (events := self._ws.events_received()):
            self._ws.receive_data(self.sock.recv(RECEIVE_BUFFER))
        response = events[0]
        assert isinstance(response, Response) and response.status_code == 101, response

    def send(self, packets: bytes) -> None:
        """MQTT packets in one binary frame, written whole (blocks while the broker reads slower)."""
        self._ws.send_binary(packets)
        self._flush()

    def flood(self, packets: bytes, until: float, stop: Callable[[], bool]) -> int:
        """Frames of `packets`, again and again, until `stop()`, the monotonic time `until`, or the broker ends
        the connection; how many frames were written. Checks `stop` at least every 0.2 s, never leaving half a
        frame behind."""
        sent, pending = 0, b""
        with contextlib.suppress(ConnectionError):  # the broker reset the connection: the flood is over
            while not stop() and time.monotonic() < until:
                if not pending:
                    self._ws.send_binary(packets)
                    pending = b"".join(self._ws.data_to_send())
                    sent += 1
                _, writable, _ = select.select([], [self.sock], [], 0.2)  # the broker reads at 512 KiB/s
                if writable:
                    pending = pending[self.sock.send(pending) :]
        return sent

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NeverReadingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
