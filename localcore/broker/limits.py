"""The broker's limits: AWS IoT Core's message-broker quotas by default, each one configurable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class BrokerLimits:
    """Per-connection and per-message limits. `None` switches a limit off.

    Defaults are AWS IoT Core's (https://docs.aws.amazon.com/general/latest/gr/iot-core.html and mqtt.html).
    """

    max_payload_bytes: int | None = 128 * 1024
    # AWS: "Maximum Packet Size cannot exceed 128 KB" vs "146 KB" quoted elsewhere; 146 KB leaves room for a
    # full 128 KB payload plus topic and properties, and the payload limit is checked on its own.
    max_packet_size: int = 146 * 1024
    max_topic_bytes: int | None = 256
    max_topic_slashes: int | None = 7
    max_client_id_bytes: int | None = 128
    max_subscriptions_per_connection: int | None = 50
    max_filters_per_subscribe: int | None = 8
    publishes_per_second: int | None = 100  # per connection, inbound and outbound combined; excess dropped
    inbound_bytes_per_second: int | None = 512 * 1024  # per connection; excess is delayed (reads pause)
    keep_alive_min: int = 30
    keep_alive_max: int = 1200
    keep_alive_default: int = 1200  # used for 0 and for values above the maximum
    keep_alive_grace: float = 1.5  # disconnect after this many keep-alive periods without a packet
    connect_timeout: float = 10.0  # seconds to wait for CONNECT on a new connection
    session_expiry_seconds: int = 3600  # persistent sessions (3.1.1) and the cap for MQTT 5's request
    max_inflight: int = 100  # unacknowledged outbound QoS 1 publishes per client
    receive_maximum: int = 100  # unacknowledged inbound QoS 1 publishes per client (advertised)
    max_queued_messages: int = 1000  # QoS 1 messages kept per session beyond the in-flight window
    # Bytes queued for one client and not yet written to its socket (localcore's own bound; AWS documents none,
    # docs/broker.md "Slow consumers"). Deliveries may fill half: then QoS 0 is dropped and QoS 1 waits in the
    # session. A reply (PINGRESP, SUBACK, PUBACK, ...) that takes the queue over the whole bound closes the
    # connection as a slow consumer (MQTT 5 DISCONNECT 0x97, lifecycle THROTTLED).
    max_outbound_bytes: int = 1024 * 1024
    topic_alias_maximum: int = 8
    max_message_expiry_seconds: int = 604800

    @classmethod
    def aws(cls) -> BrokerLimits:
        return cls()

    @classmethod
    def unlimited(cls) -> BrokerLimits:
        """No AWS quotas (rate, counts, sizes); protocol sanity limits stay."""
        return cls(
            max_payload_bytes=None,
            max_packet_size=16 * 1024 * 1024,
            max_topic_bytes=None,
            max_topic_slashes=None,
            max_client_id_bytes=None,
            max_subscriptions_per_connection=None,
            max_filters_per_subscribe=None,
            publishes_per_second=None,
            inbound_bytes_per_second=None,
            keep_alive_min=1,
            max_queued_messages=100_000,
            max_outbound_bytes=64 * 1024 * 1024,
            max_inflight=1000,
            receive_maximum=1000,
        )

    def replace(self, **changes: object) -> BrokerLimits:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def clamp_keep_alive(self, requested: int) -> int:
        """AWS: 0 or above the maximum gets the default; 1..29 is raised to 30."""
        if requested == 0 or requested > self.keep_alive_max:
            return self.keep_alive_default
        return max(requested, self.keep_alive_min)
