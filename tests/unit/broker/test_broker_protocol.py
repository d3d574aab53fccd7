"""The broker's MQTT protocol without sockets: CONNECT/CONNACK, deadlines, closing and takeover.

Encoded packets go into `ServerProtocol.receive_data`, time goes in through `tick` and a fake clock, and the
assertions are on the exact bytes the server queued. The socket tests in tests/functional/broker/ cover what
needs a real transport. MQTT specs: https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html and
https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html; AWS deviations: docs/broker.md.
"""

from __future__ import annotations

import json

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from localcore.broker import codec
from localcore.broker.broker import Broker
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.protocol import CLOSED, CLOSING, CONNECTING, OPEN, Accepted, Closing
from localcore.broker.testing import RuleAuthenticator
from tests.support.protocol_support import T0, FakeClock, Wire, record

CONNACK_ACCEPTED_311 = b"\x20\x02\x00\x00"


def connack_properties(connack: bytes) -> dict[str, object]:
    """An MQTT 5 CONNACK's properties, decoded by paho (an independent decoder)."""
    assert connack[0] == 0x20 and connack[3] == 0  # CONNACK, reason Success
    properties = Properties(PacketTypes.CONNACK)
    properties.unpack(connack[4:])
    result: dict[str, object] = properties.json()
    return result


def test_mqtt311_connect_gets_connack_accepted():
    """MQTT 3.1.1 section 3.2: CONNACK is 0x20 0x02, session-present 0, return code 0 (a clean session)."""
    wire = Wire(Broker(), FakeClock())
    assert wire.connect("device-1", keep_alive=60) == CONNACK_ACCEPTED_311
    assert wire.events() == [Accepted("device-1", session_present=False, keep_alive=60)]
    assert wire.protocol.state is OPEN


def test_mqtt5_connack_advertises_what_aws_supports_and_the_clamped_keep_alive():
    """AWS (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, MQTT 5 supported features and
    differences): Maximum QoS 1, no subscription identifiers, 8 topic aliases; keep-alive below 30 s is raised to
    30 (https://docs.aws.amazon.com/general/latest/gr/iot-core.html) and returned as Server Keep Alive."""
    wire = Wire(Broker(), FakeClock())
    props = connack_properties(wire.connect("device-5", codec.MQTT5, keep_alive=10))
    assert props["MaximumQoS"] == 1
    assert props["SubscriptionIdentifierAvailable"] == 0
    assert props["RetainAvailable"] == 1
    assert props["SharedSubscriptionAvailable"] == 1
    assert props["TopicAliasMaximum"] == 8
    assert props["ServerKeepAlive"] == 30
    assert props["ReceiveMaximum"] == 100
    assert "AssignedClientIdentifier" not in props


def test_mqtt5_empty_client_id_gets_an_assigned_one():
    """MQTT 5.0 section 3.2.2.3.7 and AWS mqtt.html: an empty client id gets an Assigned Client Identifier."""
    wire = Wire(Broker(), FakeClock())
    props = connack_properties(wire.connect("", codec.MQTT5))
    assigned = props["AssignedClientIdentifier"]
    assert isinstance(assigned, str) and assigned == wire.protocol.client_id and assigned


def test_unsupported_protocol_level_gets_connack_1_then_close():
    """MQTT 3.1.1 section 3.1.2.2: an unsupported level is answered with CONNACK return code 0x01, then the
    connection is closed."""
    raw = bytearray(codec.encode_connect("old"))
    raw[8] = 3  # protocol level byte: 3 = MQTT 3.1
    wire = Wire(Broker(), FakeClock())
    wire.send(bytes(raw))
    assert wire.take() == b"\x20\x02\x00\x01"
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR
    assert wire.protocol.state is CLOSING


def test_refused_mqtt5_connect_gets_the_authenticators_reason_code():
    """AWS mqtt.html MQTT 5 reason codes: bad credentials → CONNACK 0x86; lifecycle reason AUTH_ERROR
    (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html)."""
    wire = Wire(Broker(RuleAuthenticator()), FakeClock())
    assert wire.connect("device", codec.MQTT5, username="bad") == b"\x20\x03\x00\x86\x00"
    closing = wire.closing()
    assert (closing.reason, closing.code) == (DisconnectReason.AUTH_ERROR, 0x86)


def test_denied_iot_connect_on_mqtt5_gets_connack_not_authorized():
    """AWS mqtt.html MQTT 5 reason codes: a policy that denies iot:Connect → CONNACK 0x87 Not authorized."""
    broker = Broker(RuleAuthenticator(deny={("iot:Connect", "device")}))
    wire = Wire(broker, FakeClock())
    assert wire.connect("device", codec.MQTT5) == b"\x20\x03\x00\x87\x00"
    assert wire.closing().reason is DisconnectReason.AUTH_ERROR


def test_first_packet_must_be_connect():
    """MQTT 3.1.1 [MQTT-3.1.0-1]: the first packet from a client must be CONNECT, else the server closes the
    connection (nothing is sent: there is no CONNACK to answer with)."""
    wire = Wire(Broker(), FakeClock())
    wire.send(b"\xc0\x00")  # PINGREQ
    assert wire.take() == b""
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR


def test_no_connect_in_time_closes_without_a_byte():
    """MQTT 3.1.1 section 3.1 (non-normative): a server may close a connection that sends no CONNECT within a
    reasonable time; localcore waits `BrokerLimits.connect_timeout` (10 s)."""
    clock = FakeClock()
    wire = Wire(Broker(), clock)
    assert wire.protocol.deadline() == T0 + 10
    wire.protocol.tick(T0 + 9.9)
    assert wire.protocol.state is CONNECTING
    wire.protocol.tick(T0 + 10)
    assert wire.protocol.state is CLOSING and wire.take() == b""
    assert wire.closing().reason is DisconnectReason.CLIENT_ERROR
    assert wire.protocol.deadline() is None


def test_keep_alive_expires_after_one_and_a_half_periods_on_mqtt5():
    """AWS: disconnect after 1.5 × keep-alive without a packet (https://docs.aws.amazon.com/general/latest/gr/
    iot-core.html, message broker limits; MQTT 5.0 section 3.1.2.10). MQTT 5 gets DISCONNECT 0x8D Keep Alive
    timeout; the lifecycle reason is MQTT_KEEP_ALIVE_TIMEOUT."""
    clock = FakeClock()
    wire = Wire(Broker(), clock)
    wire.connect("sleepy", codec.MQTT5, keep_alive=60)
    wire.events()
    assert wire.protocol.deadline() == T0 + 90
    clock.advance(50)
    wire.send(b"\xc0\x00")  # PINGREQ: activity moves the deadline
    assert wire.take() == b"\xd0\x00"  # PINGRESP
    assert wire.protocol.deadline() == T0 + 140
    wire.protocol.tick(T0 + 139.9)
    assert wire.protocol.state is OPEN
    wire.protocol.tick(T0 + 140)
    assert wire.take() == b"\xe0\x02\x8d\x00"  # DISCONNECT 0x8D, no properties
    closing = wire.closing()
    assert (closing.reason, closing.code) == (DisconnectReason.MQTT_KEEP_ALIVE_TIMEOUT, 0x8D)


def test_keep_alive_expiry_on_mqtt311_closes_without_a_byte():
    """MQTT 3.1.1 section 3.1.2.10: the server disconnects after 1.5 × keep-alive; 3.1.1 servers never send
    DISCONNECT."""
    clock = FakeClock()
    wire = Wire(Broker(), clock)
    wire.connect("sleepy", keep_alive=30)
    wire.protocol.tick(clock.advance(45))
    assert wire.take() == b""
    assert wire.protocol.state is CLOSING


def test_client_disconnect_ends_the_connection_and_later_bytes_are_ignored():
    """MQTT 3.1.1 section 3.14: after DISCONNECT the client sends nothing more; the server acts on nothing more.
    The lifecycle reason is CLIENT_INITIATED_DISCONNECT (AWS life-cycle-events.html)."""
    broker = Broker()
    messages = record(broker)
    wire = Wire(broker, FakeClock())
    wire.connect("leaver")
    wire.send(b"\xe0\x00", codec.encode_subscribe(1, [("a/b", 0)]))
    assert wire.take() == b""  # no SUBACK: the SUBSCRIBE after DISCONNECT was not handled
    assert wire.closing().reason is DisconnectReason.CLIENT_INITIATED_DISCONNECT
    wire.protocol.connection_lost()
    assert wire.protocol.state is CLOSED
    disconnected = json.loads(messages[-1].payload)
    assert messages[-1].topic == "$aws/events/presence/disconnected/leaver"
    assert disconnected["disconnectReason"] == "CLIENT_INITIATED_DISCONNECT"
    assert "leaver" not in broker.sessions


def test_transport_loss_is_reported_once_as_connection_lost():
    """AWS life-cycle-events.html: a connection that ends without DISCONNECT is CONNECTION_LOST; the broker hears
    of it once, however often the I/O side reports it."""
    broker = Broker()
    messages = record(broker)
    wire = Wire(broker, FakeClock())
    wire.connect("flaky")
    wire.events()
    wire.protocol.connection_lost()
    wire.protocol.connection_lost()
    assert wire.events() == [Closing(DisconnectReason.CONNECTION_LOST, None, "connection lost")]
    disconnects = [m for m in messages if m.topic == "$aws/events/presence/disconnected/flaky"]
    assert len(disconnects) == 1
    assert json.loads(disconnects[0].payload)["disconnectReason"] == "CONNECTION_LOST"


def test_same_client_id_takes_over_and_the_old_connection_gets_0x8e():
    """AWS mqtt.html: "the new client connection is accepted and the previously connected client is
    disconnected"; MQTT 5 DISCONNECT 0x8E Session taken over; lifecycle reason DUPLICATE_CLIENTID."""
    clock = FakeClock()
    broker = Broker()
    messages = record(broker)
    old, new = Wire(broker, clock), Wire(broker, clock)
    old.connect("phone", codec.MQTT5)
    old.events()
    wakeups = old.wakeups
    assert connack_properties(new.connect("phone", codec.MQTT5))  # CONNACK Success
    assert old.take() == b"\xe0\x02\x8e\x00"
    assert old.wakeups > wakeups and old.closings == 1  # the I/O side is told outside any receive_data
    assert old.closing().reason is DisconnectReason.DUPLICATE_CLIENTID
    old.protocol.connection_lost()
    disconnected = json.loads(messages[-1].payload)
    assert disconnected["disconnectReason"] == "DUPLICATE_CLIENTID"
    assert broker.sessions["phone"].connection is new.protocol  # the old one's loss leaves the new session be
