"""Session delivery rules without sockets: in-flight window, offline queue, DUP resend, Receive checks."""

from __future__ import annotations

from iot_policies.evaluator import Decision
from localcore.broker import codec
from localcore.broker.enforcement import Enforcer
from localcore.broker.message import Message
from localcore.broker.sessions import Session


class FakeConnection:
    protocol_level = codec.MQTT311
    client_max_packet_size: int | None = None

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def allow_rate(self) -> bool:
        return True

    def has_room(self, size: int) -> bool:
        return True

    def send(self, data: bytes) -> None:
        self.sent.append(data)


class Deny:
    principal_id = "p"

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def decide(self, action: str, resource: str) -> Decision:
        return Decision(resource != self.topic, action, resource, "unit test")


class Broken:
    principal_id = "p"

    def decide(self, action: str, resource: str) -> Decision:
        raise RuntimeError("evaluator bug")


def test_inflight_window_then_queue_then_drain_on_puback():
    """AWS: at most 100 unacknowledged outbound QoS 1 publishes; the rest wait and flow on PUBACK."""
    session = Session("c", codec.MQTT311, 0, max_queued=10)
    connection = FakeConnection()
    session.attach(connection, Enforcer(Deny("none"), "c"), window=2)
    for index in range(4):
        session.deliver(Message(f"t/{index}", b"x", qos=1), 1, False)
    assert len(connection.sent) == 2 and len(session.queue) == 2
    session.acknowledge(1)
    assert len(connection.sent) == 3
    session.acknowledge(99)  # unknown packet ids are ignored
    assert len(connection.sent) == 3


def test_offline_persistent_session_queues_qos1_only_and_caps_queue():
    """AWS persistent sessions store QoS 1 while offline (QoS 0 is not stored); the queue is bounded."""
    session = Session("c", codec.MQTT311, 3600, max_queued=2)
    for qos in (0, 1, 1, 1):
        session.deliver(Message("t", b"x", qos=qos), qos, False)
    assert len(session.queue) == 2
    assert session.dropped == 1


def test_unacknowledged_messages_resent_with_dup_on_reattach():
    """MQTT §4.4: on session resumption unacknowledged PUBLISH packets are resent with DUP=1."""
    session = Session("c", codec.MQTT311, 3600, max_queued=10)
    first = FakeConnection()
    session.attach(first, Enforcer(Deny("none"), "c"), window=10)
    session.deliver(Message("t", b"x", qos=1), 1, False)
    session.detach()
    second = FakeConnection()
    session.attach(second, Enforcer(Deny("none"), "c"), window=10)
    assert second.sent[0][0] == first.sent[0][0] | 0x08
    assert second.sent[0][1:] == first.sent[0][1:]


def test_receive_denied_and_broken_authority_do_not_deliver():
    """iot:Receive is checked per delivery; an authority that raises counts as a denial (logged)."""
    session = Session("c", codec.MQTT311, 0, max_queued=10)
    connection = FakeConnection()
    session.attach(connection, Enforcer(Deny("secret"), "c"), window=10)
    session.deliver(Message("secret", b"x"), 0, False)
    session.deliver(Message("open", b"x"), 0, False)
    assert len(connection.sent) == 1
    session.attach(connection, Enforcer(Broken(), "c"), window=10)
    session.deliver(Message("open", b"x"), 0, False)
    assert len(connection.sent) == 1


def test_client_maximum_packet_size_is_respected():
    """MQTT 5 §3.1.2.11.4: the server must not send packets larger than the client's Maximum Packet Size."""
    session = Session("c", codec.MQTT5, 0, max_queued=10)
    connection = FakeConnection()
    connection.protocol_level = codec.MQTT5
    connection.client_max_packet_size = 50
    session.attach(connection, Enforcer(Deny("none"), "c"), window=10)
    session.deliver(Message("t", b"x" * 100), 0, False)
    session.deliver(Message("t", b"small"), 0, False)
    assert len(connection.sent) == 1
