"""MQTT 5 over WebSockets with paho-mqtt on a SigV4-presigned `/mqtt` URL (the alternative transport).

The URL is signed again before every (re)connect (`on_pre_connect`), so reconnects after the 5-minute
SigV4 window and after a credentials renewal still work. paho reconnects by itself
(`reconnect_on_failure`); Clean Start is set on the first connection only (`MQTT_CLEAN_START_FIRST_ONLY`).
"""

from __future__ import annotations

import concurrent.futures
import ssl
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from clients.acks import PacketAcks
from clients.errors import (
    ClientTimeoutError,
    IotstreamClientError,
    PolicyDeniedError,
    StackNotRunningError,
)
from clients.transport import (
    RECONNECT_MAX_DELAY_S,
    RECONNECT_MIN_DELAY_S,
    UPGRADE_REFUSED_HINT,
    ReconnectingTransport,
    refusal,
    renew_expiring_credentials,
)


class PahoTransport(ReconnectingTransport):
    """One paho client running its own network thread; messages go to `on_message` on that thread."""

    def _setup(self) -> None:
        session, options = self.session, self.options
        self._acks: PacketAcks[int] = PacketAcks()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=paho.MQTTv5,
            transport="websockets",
            reconnect_on_failure=True,
        )
        client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
        if session.config.tls:
            client.tls_set_context(ssl.create_default_context(cafile=session.config.ca_file))
        client.on_pre_connect = self._pre_connect
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = lambda c, u, message: self._on_message(message.topic, bytes(message.payload))
        client.on_subscribe = lambda c, u, mid, codes, props: self._acks.resolve(mid, int(codes[0].value))
        client.on_publish = lambda c, u, mid, code, props: self._acks.resolve(mid, int(code.value))
        self._client = client

    def start(self, timeout: float) -> None:
        config = self.session.config
        properties = _session_expiry(PacketTypes.CONNECT, self.options.session_expiry_s)
        try:
            self._client.connect(
                config.mqtt_host,
                config.mqtt_port,
                keepalive=self.options.keep_alive_s,
                clean_start=paho.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties,
            )
        except paho.WebsocketConnectionError as error:
            raise PolicyDeniedError(
                f"{config.websocket_endpoint} refused the signed WebSocket upgrade ({error}): "
                f"{UPGRADE_REFUSED_HINT}"
            ) from None
        except OSError as error:
            raise StackNotRunningError(f"nothing answers at {config.websocket_endpoint} ({error})") from None
        self._client.loop_start()
        self._wait_connected(timeout)

    def subscribe(self, topic_filter: str, timeout: float) -> None:
        result, mid = self._client.subscribe(topic_filter, qos=1)
        if mid is None:
            raise IotstreamClientError(f"cannot SUBSCRIBE {topic_filter}: {paho.error_string(result)}")
        code = _wait(self._acks.expect(mid), timeout, f"SUBACK for {topic_filter}")
        if code >= 0x80:
            raise refusal(f"SUBSCRIBE {topic_filter}", "SUBACK", code)
        self._remember(topic_filter)

    def publish(self, topic: str, payload: bytes, timeout: float) -> None:
        info = self._client.publish(topic, payload, qos=1)  # queued by paho while disconnected
        code = _wait(self._acks.expect(info.mid), timeout, f"PUBACK for {topic}")
        if code >= 0x80:
            raise refusal(f"PUBLISH {topic}", "PUBACK", code)

    def stop(self) -> None:
        """DISCONNECT with session expiry 0: a deliberate close leaves no session queueing messages."""
        self._stopping = True
        self._client.disconnect(properties=_session_expiry(PacketTypes.DISCONNECT, 0))
        self._client.loop_stop()

    # ------------------------------------------------------------------ paho callbacks (its thread)

    def _pre_connect(self, client: paho.Client, userdata: Any) -> None:
        renew_expiring_credentials(self.session)
        client.ws_set_options(path=self.session.presigned_url().path)

    def _connected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._on_refused(
                refusal(f"the connection as {self.options.client_id}", "CONNACK", int(reason.value))
            )
        else:
            self._on_connected(bool(flags.session_present), self._subscribe_nowait)

    def _subscribe_nowait(self, topic_filter: str) -> None:
        _, mid = self._client.subscribe(topic_filter, qos=1)
        if mid is not None:
            self._acks.expect(mid)  # nobody waits; this keeps the SUBACK from lingering as an early ack

    def _disconnected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._on_lost(f" ({reason})")


def _session_expiry(packet_type: int, seconds: int) -> Properties:
    properties = Properties(packet_type)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = seconds
    return properties


def _wait(future: concurrent.futures.Future[int], timeout: float, what: str) -> int:
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise ClientTimeoutError(f"no {what} within {timeout:g}s") from None
