"""Ask a question over MQTT and iterate the answer's events in order: the client side of the wire protocol.

Works with any connected paho-mqtt client (local-mode TCP, or WebSockets with a SigV4-presigned URL):
publishes the prompt on `chat/{id}/prompt`, reorders and deduplicates the response events by `seq`, and
gives up with `StreamIdleTimeout` when nothing arrives for `idle_timeout` seconds.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho

from iotstream_lambdas.streaming.assembler import StreamAssembler
from iotstream_lambdas.streaming.errors import ProtocolError
from iotstream_lambdas.streaming.wire import (
    Event,
    Params,
    Prompt,
    encode_sendable_prompt,
    prompt_topic,
    response_filter,
)

DEFAULT_IDLE_TIMEOUT_S = 60.0


class ChatClient:
    """One identity's chat over an already-connected paho client (the caller runs its network loop)."""

    def __init__(
        self, client: paho.Client, identity_id: str, idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S
    ) -> None:
        self.client = client
        self.identity_id = identity_id
        self.idle_timeout = idle_timeout
        self._inbox: queue.Queue[bytes] = queue.Queue()
        self._subscribed = threading.Event()
        self.last_stream: StreamAssembler | None = None
        self.skipped = 0
        client.message_callback_add(response_filter(identity_id), self._on_response)

    def _on_response(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._inbox.put(bytes(message.payload))

    def subscribe(self, timeout: float = 10.0) -> None:
        """Subscribe to this identity's response topics (QoS 1) and wait for the SUBACK."""
        done = threading.Event()
        previous = self.client.on_subscribe

        def on_subscribe(*args: Any) -> None:
            done.set()
            if previous is not None:
                previous(*args)

        self.client.on_subscribe = on_subscribe
        result, _ = self.client.subscribe(response_filter(self.identity_id), qos=1)
        if result != paho.MQTT_ERR_SUCCESS or not done.wait(timeout):
            raise TimeoutError("no SUBACK for the response topics")
        self.client.on_subscribe = previous
        self._subscribed.set()

    def ask(
        self, text: str, conversation: str | None = None, params: Params | None = None, rid: str | None = None
    ) -> Iterator[Event]:
        """Publish a prompt and return its events in `seq` order until the terminal one (or idle timeout).

        Raises `ProtocolError` (`payload_too_large`) before publishing anything when the encoded prompt
        exceeds AWS IoT's 128 KB payload limit: the broker would drop the connection instead of answering.
        """
        rid = rid or str(uuid.uuid4())
        prompt = Prompt(rid=rid, text=text, conversation=conversation, params=params or Params())
        payload = encode_sendable_prompt(prompt)
        if not self._subscribed.is_set():
            self.subscribe()
        self.client.publish(prompt_topic(self.identity_id), payload, qos=1)
        return self.follow(rid)

    def follow(self, rid: str) -> Iterator[Event]:
        """Yield the events of request `rid` in `seq` order until its terminal event (or idle timeout).

        Events of other requests and payloads that are not v1 events are skipped (counted in the
        assembler's `stats.foreign` / `self.skipped`). `self.last_stream` is the assembler in use.
        """
        if not self._subscribed.is_set():
            self.subscribe()
        assembler = StreamAssembler(rid=rid, idle_timeout=self.idle_timeout, now=time.monotonic())
        self.last_stream = assembler
        while not assembler.done:
            try:
                payload = self._inbox.get(timeout=0.2)
            except queue.Empty:
                timed_out = assembler.check_idle(time.monotonic())
                if timed_out is not None:
                    raise timed_out from None
                continue
            try:
                released = assembler.feed_payload(payload, time.monotonic())
            except ProtocolError:
                self.skipped += 1
                continue
            yield from released
