"""What the chat client and the dashboard feed need from an MQTT connection, whichever library provides it.

Two implementations, both MQTT 5 over WebSockets signed with SigV4 like AWS IoT requires
(https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html):
`clients.mqtt5_transport.Mqtt5Transport` (awscrt, the AWS IoT Device SDK v2's client; the default) and
`clients.paho_transport.PahoTransport` (paho-mqtt on a presigned URL).

A transport reconnects by itself. With `session_expiry_s > 0` it connects with Clean Start on the first
connection only and Clean Start off afterwards, so the broker keeps the subscriptions and queues QoS 1
messages while the connection is down; when a CONNACK says the session is gone (`sessionPresent` 0) the
transport subscribes again (AWS: mqtt.html "Using MQTT persistent sessions").
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from clients.errors import ClientTimeoutError, IotstreamClientError, PolicyDeniedError
from clients.session import Session

log = logging.getLogger("iotstream.client")

MessageHandler = Callable[[str, bytes], None]  # (topic, payload), called on the transport's thread
StatusHandler = Callable[[str], None]  # "connected", "resumed", "reconnecting: <why>", ...
TransportName = Literal["mqtt5", "paho"]
TRANSPORTS: tuple[TransportName, ...] = ("mqtt5", "paho")

AWS_MIN_KEEP_ALIVE_S = 30  # AWS raises 1-29 to 30 (mqtt.html, keep-alive)
RECONNECT_MIN_DELAY_S = 1  # AWS IoT accepts at most 1 CONNECT per second per client id (iot-core quotas)
RECONNECT_MAX_DELAY_S = 5  # backoff cap: a chat resumes within seconds once the network is back

# MQTT 5 reason codes (OASIS MQTT 5.0, 2.4) that AWS IoT documents for refusals (mqtt.html, reason codes).
REASON_NAMES = {
    0x80: "Unspecified error",
    0x83: "Implementation specific error",
    0x85: "Client identifier not valid",
    0x86: "Bad user name or password",
    0x87: "Not authorized",
    0x8A: "Banned",
    0x8F: "Topic filter invalid",
    0x90: "Topic name invalid",
    0x91: "Packet identifier in use",
    0x97: "Quota exceeded",
}


@dataclass(frozen=True)
class ConnectOptions:
    """How to connect: the client id (the policies allow the identity id or `{id}-…`) and the session."""

    client_id: str
    session_expiry_s: int = 0  # > 0: persistent session, resumed after a drop (AWS default cap: 1 h)
    keep_alive_s: int = AWS_MIN_KEEP_ALIVE_S


class Transport(Protocol):
    """A started transport delivers every message to its `MessageHandler` until `stop()`."""

    def start(self, timeout: float) -> None:
        """Connect and wait for the first CONNACK; PolicyDeniedError, StackNotRunningError, ClientTimeoutError."""

    def subscribe(self, topic_filter: str, timeout: float) -> None:
        """SUBSCRIBE at QoS 1 and wait for the SUBACK; PolicyDeniedError when refused. Kept across reconnects."""

    def publish(self, topic: str, payload: bytes, timeout: float) -> None:
        """PUBLISH at QoS 1 and wait for the PUBACK; PolicyDeniedError when refused."""

    def stop(self) -> None:
        """Disconnect and end the session (session expiry 0 on DISCONNECT)."""


class ReconnectingTransport:
    """What both transports share: the first CONNACK as a future, the filters to subscribe again when a
    reconnect finds the session gone, and the status lines. Subclasses call the `_on_*` methods from their
    library's callbacks (its thread)."""

    def __init__(
        self,
        session: Session,
        options: ConnectOptions,
        on_message: MessageHandler,
        on_status: StatusHandler | None = None,
    ) -> None:
        self.session = session
        self.options = options
        self._on_message = on_message
        self._on_status = on_status or (lambda status: None)
        self._lock = threading.Lock()
        self._filters: list[str] = []
        self._first: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stopping = False
        self._setup()

    def _setup(self) -> None:
        """Make the library's client (not connected yet)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _wait_connected(self, timeout: float) -> None:
        """Until the first CONNACK; a refusal or a timeout stops the transport and is raised."""
        try:
            self._first.result(timeout)
        except concurrent.futures.TimeoutError:
            self.stop()
            raise ClientTimeoutError(f"no CONNACK from {self.session.config.websocket_endpoint}") from None
        except IotstreamClientError:
            self.stop()
            raise

    def _remember(self, topic_filter: str) -> None:
        with self._lock:
            if topic_filter not in self._filters:
                self._filters.append(topic_filter)

    def _on_connected(self, session_present: bool, resubscribe: Callable[[str], object]) -> None:
        if not self._first.done():
            self._first.set_result(None)
            self._on_status("connected")
            return
        with self._lock:
            lost = [] if session_present else list(self._filters)
        for topic_filter in lost:  # the broker forgot the session: subscribe again, without blocking here
            resubscribe(topic_filter)
        self._on_status("resumed" if session_present else "reconnected (session lost: subscribed again)")

    def _on_refused(self, error: IotstreamClientError) -> None:
        if not self._first.done():
            self._first.set_exception(error)
        else:
            self._on_status(f"reconnecting: {error}")

    def _on_lost(self, detail: str = "") -> None:
        if not self._stopping and self._first.done():
            self._on_status(f"connection lost{detail}, reconnecting")


UPGRADE_REFUSED_HINT = (
    "the signature or the credentials were not accepted: sign in again, and check this computer's clock "
    "(AWS SigV4 allows 5 minutes of difference)"
)
"""Why a signed WebSocket upgrade gets 403: AWS says nothing more (docs/security.md, "Handshake refusals")."""


def refusal(what: str, packet: str, code: int) -> PolicyDeniedError:
    """The error for a refused CONNECT / SUBSCRIBE / PUBLISH, naming the MQTT 5 reason code."""
    name = REASON_NAMES.get(code, "refused")
    return PolicyDeniedError(f"the broker refused {what}: {name} ({packet} 0x{code:02X})", code)


def renew_expiring_credentials(session: Session) -> None:
    """Before each (re)connect: new identity-pool credentials when the current ones expire within 5 minutes.

    Runs on the transport's thread; a failure is logged and the connect attempt then fails and is retried.
    """
    try:
        session.refresh_if_expiring()
    except Exception as error:  # noqa: BLE001 (a callback thread: log, the next attempt tries again)
        log.warning("could not renew the credentials of %s: %s", session.username, error)
