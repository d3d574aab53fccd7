"""One paho client driven step by step, waiting for each acknowledgement: what `iotstream pub` and `iotstream sub`
need (connect, subscribe or publish, read messages), with every refusal as one `PolicyDeniedError` line.

    line = MqttLine(paho_client, host, port)
    line.connect()                            # CONNACK, or PolicyDeniedError / StackNotRunningError / timeout
    line.subscribe(["greenhouse/+/alerts"])   # SUBACK codes; a refused filter raises
    for message in line.messages(): ...       # until the connection ends
"""

from __future__ import annotations

import concurrent.futures
import queue
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho

from clients.acks import PacketAcks
from clients.errors import ClientTimeoutError, IotstreamClientError, PolicyDeniedError, StackNotRunningError
from clients.transport import refusal

ACK_TIMEOUT_S = 10.0


class MqttLine:
    """A paho client (any transport, already configured with its credentials) and its acknowledgements."""

    def __init__(self, client: paho.Client, host: str, port: int) -> None:
        self.client = client
        self.where = f"{host}:{port}"
        self._host, self._port = host, port
        self._connack: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._acks: PacketAcks[list[int]] = PacketAcks()
        self._messages: queue.Queue[paho.MQTTMessage | None] = queue.Queue()
        self.closed_reason: str | None = None
        client.on_connect = self._connected
        client.on_subscribe = lambda c, u, mid, codes, props: self._acks.resolve(
            mid, [int(x.value) for x in codes]
        )
        client.on_publish = lambda c, u, mid, code, props: self._acks.resolve(mid, [int(code.value)])
        client.on_message = lambda c, u, message: self._messages.put(message)
        client.on_disconnect = self._disconnected

    def connect(self, timeout: float = ACK_TIMEOUT_S) -> None:
        try:
            self.client.connect(self._host, self._port, keepalive=60)
        except paho.WebsocketConnectionError as error:
            raise PolicyDeniedError(f"{self.where} refused the WebSocket upgrade ({error})") from None
        except OSError as error:
            raise StackNotRunningError(f"nothing answers at {self.where} ({error})") from None
        self.client.loop_start()
        code = self._wait(self._connack, timeout, "CONNACK")
        if code >= 0x80:
            self.close()
            client_id = self.client._client_id.decode()
            raise refusal(f"the connection as {client_id}", "CONNACK", code)

    def subscribe(self, filters: list[str], qos: int = 1, timeout: float = ACK_TIMEOUT_S) -> list[int]:
        result, mid = self.client.subscribe([(f, qos) for f in filters])
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            raise IotstreamClientError(f"cannot SUBSCRIBE at {self.where}: {paho.error_string(result)}")
        codes: list[int] = self._wait(self._acks.expect(mid), timeout, "SUBACK")
        for topic_filter, code in zip(filters, codes, strict=False):
            if code >= 0x80:
                raise refusal(f"SUBSCRIBE {topic_filter}", "SUBACK", code)
        return codes

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout: float = ACK_TIMEOUT_S
    ) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise IotstreamClientError(f"cannot PUBLISH {topic}: {paho.error_string(info.rc)}")
        if not qos:
            info.wait_for_publish(timeout)
            return
        [code] = self._wait(self._acks.expect(info.mid), timeout, "PUBACK")
        if code >= 0x80:
            raise refusal(f"PUBLISH {topic}", "PUBACK", code)

    def messages(self) -> Iterator[paho.MQTTMessage]:
        """Every message as it arrives, until the connection ends (`closed_reason` says why)."""
        while (message := self._messages.get()) is not None:
            yield message

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # ------------------------------------------------------------------ paho callbacks (its thread)

    def _connected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not self._connack.done():
            self._connack.set_result(int(reason.value))

    def _disconnected(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.closed_reason = str(reason)
        if not self._connack.done():
            self._connack.set_result(int(getattr(reason, "value", 0x80)) or 0x80)
        self._acks.fail_all(IotstreamClientError(f"the broker closed the connection ({reason})"))
        self._messages.put(None)

    def _wait(self, future: concurrent.futures.Future[Any], timeout: float, what: str) -> Any:
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise ClientTimeoutError(f"no {what} from {self.where} within {timeout:g}s") from None
