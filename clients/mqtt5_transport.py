"""MQTT 5 over SigV4 WebSockets with awscrt (`awscrt.mqtt5`, the client of the AWS IoT Device SDK v2).

`wss://` endpoints (AWS) are built with `awsiot.mqtt5_client_builder.websockets_with_default_aws_signing`;
localcore's plain `ws://` needs a client without TLS, built from the same awscrt pieces with the same SigV4
handshake transform (`clients.session.sigv4_handshake_transform`), as `Session.mqtt_connection` does for
MQTT 3.1.1. awscrt reconnects by itself (at least `RECONNECT_MIN_DELAY_S` apart) and, with a session
expiry, rejoins the session after the first successful connection (`REJOIN_POST_SUCCESS`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from typing import Any

import awscrt.io
import awscrt.mqtt5 as mqtt5
from awsiot import mqtt5_client_builder

from clients.errors import ClientTimeoutError, IotstreamClientError, PolicyDeniedError, StackNotRunningError
from clients.session import sigv4_handshake_transform
from clients.transport import (
    RECONNECT_MAX_DELAY_S,
    RECONNECT_MIN_DELAY_S,
    UPGRADE_REFUSED_HINT,
    ReconnectingTransport,
    refusal,
    renew_expiring_credentials,
)

log = logging.getLogger("iotstream.client")
_REFUSED_CONNACK = {0x85, 0x86, 0x87, 0x8A}
_UNREACHABLE = ("SOCKET", "DNS", "CONNECTION", "TIMEOUT", "NO_ROUTE", "NETWORK")


class Mqtt5Transport(ReconnectingTransport):
    """One awscrt MQTT 5 client; messages go to `on_message` on awscrt's thread."""

    def _setup(self) -> None:
        self._stopped = threading.Event()
        self._client = self._build()

    def _build(self) -> mqtt5.Client:
        config, options = self.session.config, self.options
        client_options = mqtt5.ClientOptions(
            host_name=config.mqtt_host,
            port=config.mqtt_port,
            connect_options=mqtt5.ConnectPacket(
                client_id=options.client_id,
                keep_alive_interval_sec=options.keep_alive_s,
                session_expiry_interval_sec=options.session_expiry_s,
            ),
            session_behavior=(
                mqtt5.ClientSessionBehaviorType.REJOIN_POST_SUCCESS
                if options.session_expiry_s > 0
                else mqtt5.ClientSessionBehaviorType.CLEAN
            ),
            extended_validation_and_flow_control_options=(
                mqtt5.ExtendedValidationAndFlowControlOptions.AWS_IOT_CORE_DEFAULTS
            ),
            min_reconnect_delay_ms=RECONNECT_MIN_DELAY_S * 1000,
            max_reconnect_delay_ms=RECONNECT_MAX_DELAY_S * 1000,
            on_publish_callback_fn=self._received,
            on_lifecycle_event_attempting_connect_fn=self._attempting,
            on_lifecycle_event_connection_success_fn=self._connected,
            on_lifecycle_event_connection_failure_fn=self._failed,
            on_lifecycle_event_disconnection_fn=self._disconnected,
            on_lifecycle_event_stopped_fn=lambda data: self._stopped.set(),
        )
        provider = self.session.credentials_provider()
        if config.tls:  # AWS: the SDK's own builder adds TLS and the same SigV4 signing
            return mqtt5_client_builder.websockets_with_default_aws_signing(
                region=config.region,
                credentials_provider=provider,
                endpoint=config.mqtt_host,
                ca_filepath=config.ca_file,
                client_options=client_options,
            )
        client_options.bootstrap = awscrt.io.ClientBootstrap.get_or_create_static_default()
        client_options.websocket_handshake_transform = sigv4_handshake_transform(config.region, provider)
        return mqtt5.Client(client_options)

    # ------------------------------------------------------------------ the Transport protocol

    def start(self, timeout: float) -> None:
        self._client.start()
        self._wait_connected(timeout)

    def subscribe(self, topic_filter: str, timeout: float) -> None:
        packet = mqtt5.SubscribePacket([mqtt5.Subscription(topic_filter, mqtt5.QoS.AT_LEAST_ONCE)])
        suback = _result(self._client.subscribe(packet), timeout, f"SUBACK for {topic_filter}")
        code = int(suback.reason_codes[0])
        if code >= 0x80:
            raise refusal(f"SUBSCRIBE {topic_filter}", "SUBACK", code)
        self._remember(topic_filter)

    def publish(self, topic: str, payload: bytes, timeout: float) -> None:
        packet = mqtt5.PublishPacket(topic=topic, payload=payload, qos=mqtt5.QoS.AT_LEAST_ONCE)
        done = _result(self._client.publish(packet), timeout, f"PUBACK for {topic}")
        if done.puback is not None and int(done.puback.reason_code) >= 0x80:
            raise refusal(f"PUBLISH {topic}", "PUBACK", int(done.puback.reason_code))

    def stop(self) -> None:
        """DISCONNECT with session expiry 0: a deliberate close leaves no session queueing messages."""
        if self._stopping:
            return
        self._stopping = True
        self._client.stop(mqtt5.DisconnectPacket(session_expiry_interval_sec=0))
        self._stopped.wait(10)

    # ------------------------------------------------------------------ awscrt callbacks (its thread)

    def _received(self, data: mqtt5.PublishReceivedData) -> None:
        packet = data.publish_packet
        self._on_message(packet.topic, bytes(packet.payload or b""))

    def _attempting(self, data: mqtt5.LifecycleAttemptingConnectData) -> None:
        renew_expiring_credentials(self.session)

    def _connected(self, data: mqtt5.LifecycleConnectSuccessData) -> None:
        self._on_connected(bool(data.connack_packet.session_present), self._subscribe_nowait)

    def _subscribe_nowait(self, topic_filter: str) -> None:
        packet = mqtt5.SubscribePacket([mqtt5.Subscription(topic_filter, mqtt5.QoS.AT_LEAST_ONCE)])
        self._client.subscribe(packet)

    def _failed(self, data: mqtt5.LifecycleConnectFailureData) -> None:
        self._on_refused(self._connect_error(data))

    def _disconnected(self, data: mqtt5.LifecycleDisconnectData) -> None:
        self._on_lost()

    def _connect_error(self, data: mqtt5.LifecycleConnectFailureData) -> IotstreamClientError:
        endpoint = self.session.config.websocket_endpoint
        connack = data.connack_packet
        if connack is not None and int(connack.reason_code) in _REFUSED_CONNACK:
            return refusal(f"the connection as {self.options.client_id}", "CONNACK", int(connack.reason_code))
        name = str(getattr(data.exception, "name", data.exception))
        if "WEBSOCKET_UPGRADE" in name:
            return PolicyDeniedError(
                f"{endpoint} refused the signed WebSocket upgrade ({name}): {UPGRADE_REFUSED_HINT}"
            )
        if any(part in name for part in _UNREACHABLE):
            return StackNotRunningError(f"nothing answers at {endpoint} ({name})")
        return StackNotRunningError(f"cannot connect to {endpoint} ({name})")


def _result(future: concurrent.futures.Future[Any], timeout: float, what: str) -> Any:
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise ClientTimeoutError(f"no {what} within {timeout:g}s") from None
    except Exception as error:  # noqa: BLE001 (awscrt fails operations with its own exception types)
        raise IotstreamClientError(f"no {what}: {getattr(error, 'name', error)}") from None
