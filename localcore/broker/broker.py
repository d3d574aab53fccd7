"""The Broker: sessions, subscriptions, retained messages, routing, lifecycle events and listeners.

Internal API used by other localcore services:
- `await broker.publish(message)`: an already-authorized publish (iot-data endpoint, rules republish); it goes
  through retained handling, delivery (with each subscriber's iot:Receive check) and the listeners.
- `broker.add_listener(callback)`: called for every accepted application message, lifecycle events included
  (the rules engine sees `$aws/events/...` like AWS's rules do).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from localcore.broker import lifecycle
from localcore.broker.authorization import AllowAllAuthenticator, Authenticator
from localcore.broker.connect import Peer
from localcore.broker.connection import ByteStream, ClientConnection
from localcore.broker.errors import InvalidTopic
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.message import Message, Publisher
from localcore.broker.properties import message_properties
from localcore.broker.protocol import ServerProtocol
from localcore.broker.reasons import RC
from localcore.broker.retained import RetainedStore
from localcore.broker.router import Client
from localcore.broker.sessions import EncodeCache, Session
from localcore.broker.subscriptions import SharedGroup, Subscription, SubscriptionIndex
from localcore.broker.topics import ParsedFilter, basic_ingest_rule, validate_topic_name

if TYPE_CHECKING:
    from localcore.broker import codec

log = logging.getLogger("localcore.broker")

MessageListener = Callable[[Message], None]


class Broker:
    """An MQTT 3.1.1/5.0 broker with AWS IoT Core's message-broker semantics.

    It is the `Router` (localcore/broker/router.py) of every connection's `ServerProtocol`.
    """

    def __init__(
        self,
        authenticator: Authenticator | None = None,
        limits: BrokerLimits | None = None,
        *,
        lifecycle_events: bool = True,
    ) -> None:
        self.authenticator: Authenticator = authenticator or AllowAllAuthenticator()
        self.limits = limits or BrokerLimits()
        self.lifecycle_events = lifecycle_events
        self.sessions: dict[str, Session] = {}
        self.index: SubscriptionIndex[Session] = SubscriptionIndex()
        self.retained = RetainedStore()
        self.connections: set[ClientConnection] = set()
        self._listeners: list[MessageListener] = []
        # callback(client_id) when a persistent session expires (tests, control plane)
        self.session_expired_callbacks: list[Callable[[str], None]] = []
        self._versions: dict[str, int] = {}
        self.throttled = 0

    # ------------------------------------------------------------------ public API

    async def publish(self, message: Message) -> None:
        """Publish an already-authorized message (iot-data endpoint, rules engine republish).

        Raises `InvalidTopic` for a topic AWS would refuse (wildcards, limits, retained `$` topics).
        """
        self.validate_publish_topic(message.topic, message.retain)
        self.route(message, None)

    def add_listener(self, callback: MessageListener) -> None:
        """`callback(message)` for every accepted message, lifecycle events included; must not block."""
        self._listeners.append(callback)

    def refresh_authorization(self) -> None:
        """Forget cached policy decisions (call after policies or attachments change)."""
        for session in self.sessions.values():
            if session.enforcer is not None:
                session.enforcer.forget()

    async def serve(self, stream: ByteStream) -> None:
        """Run one client connection over `stream` until it ends."""
        peer = Peer(stream.transport, stream.source_ip, stream.handshake_principal)
        protocol = ServerProtocol(self, peer, asyncio.get_running_loop().time())
        connection = ClientConnection(protocol, stream)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)

    async def shutdown(self) -> None:
        """Disconnect every client (MQTT 5: DISCONNECT 0x8B) and wait for the connections to end."""
        for connection in list(self.connections):
            connection.close(DisconnectReason.SERVER_INITIATED_DISCONNECT, RC.SERVER_SHUTTING_DOWN)
        waiters = [connection.closed.wait() for connection in list(self.connections)]
        if waiters:
            await asyncio.wait_for(asyncio.gather(*waiters), 10)
        for session in self.sessions.values():
            if session.expiry_handle is not None:
                session.expiry_handle.cancel()

    # ------------------------------------------------------------------ routing

    def validate_publish_topic(self, topic: str, retain: bool) -> None:
        validate_topic_name(topic, self.limits)
        if retain and topic.startswith("$"):
            raise InvalidTopic(topic, "retained publishes to reserved $ topics are not allowed")

    def route(self, message: Message, origin: Session | None) -> None:
        """Retain, tell the listeners, deliver to every matching subscriber."""
        if message.retain:
            self.retained.apply(message)
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:  # boundary: a faulty listener must not stop delivery
                log.exception("message listener failed on %s", message.topic)
        if basic_ingest_rule(message.topic) is not None:
            return  # Basic Ingest: only the rules engine sees these
        subscriptions, groups = self.index.match(message.topic)
        if not subscriptions and not groups:
            return
        cache: EncodeCache = {}
        qos, retain = message.qos, message.retain
        for subscription in subscriptions:
            session = subscription.owner
            if subscription.no_local and session is origin:
                continue
            # MQTT 5 Retain As Published: keep the publisher's RETAIN flag; otherwise live deliveries carry 0
            kept = retain and subscription.retain_as_published
            session.deliver(message, qos if qos < subscription.qos else subscription.qos, kept, cache)
        for group in groups:
            chosen = _pick(group)
            if chosen is not None:
                chosen.owner.deliver(
                    message, min(qos, chosen.qos), retain and chosen.retain_as_published, cache
                )

    def deliver_retained(self, session: Session, parsed: ParsedFilter, qos: int) -> None:
        """AWS: retained messages go out on subscribe only when the filter equals the topic (RETAIN=1)."""
        if parsed.share_group is not None or parsed.has_wildcards:
            return
        message = self.retained.get(parsed.filter)
        if message is not None:
            session.deliver(message, min(message.qos, qos), True)

    def note_throttled(self, client_id: str, topic: str) -> None:
        self.throttled += 1
        if self.throttled == 1 or self.throttled % 1000 == 0:
            log.warning(
                "publish rate limit: dropped %s from %s (%d so far)", topic, client_id, self.throttled
            )

    # ------------------------------------------------------------------ sessions

    def open_session(
        self, client_id: str, level: int, clean_start: bool, expiry: int
    ) -> tuple[Session, bool]:
        """Take over an existing connection with the same client id; resume or start the session."""
        existing = self.sessions.get(client_id)
        if existing is not None and existing.connection is not None:
            existing.connection.close(DisconnectReason.DUPLICATE_CLIENTID, RC.SESSION_TAKEN_OVER)
            existing.detach()
        if existing is not None and not clean_start and existing.protocol_level == level:
            existing.expiry = expiry
            return existing, True
        if existing is not None:
            self._discard(existing)
        session = Session(client_id, level, expiry, self.limits.max_queued_messages)
        self.sessions[client_id] = session
        return session, False

    def _discard(self, session: Session) -> None:
        for subscription in session.subscriptions.values():
            self.index.remove(session.client_id, subscription.filter)
        session.subscriptions.clear()
        if session.expiry_handle is not None:
            session.expiry_handle.cancel()
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    def _expire(self, session: Session) -> None:
        session.expiry_handle = None
        if session.connection is None:
            log.info("session of %s expired", session.client_id)
            self._discard(session)
            for callback in self.session_expired_callbacks:
                callback(session.client_id)

    def subscribe(
        self,
        session: Session,
        parsed: ParsedFilter,
        qos: int,
        no_local: bool,
        retain_as_published: bool = False,
    ) -> bool:
        subscription = Subscription(session, session.client_id, parsed, qos, no_local, retain_as_published)
        is_new = parsed.full not in session.subscriptions
        session.subscriptions[parsed.full] = subscription
        self.index.add(subscription)
        return is_new

    def unsubscribe(self, session: Session, parsed: ParsedFilter) -> bool:
        if session.subscriptions.pop(parsed.full, None) is None:
            return False
        self.index.remove(session.client_id, parsed)
        return True

    # ------------------------------------------------------------------ connection events

    def client_connected(self, client: Client) -> int:
        """The connection's version number; the `connected` lifecycle event."""
        version = self._versions.get(client.client_id, 0) + 1
        self._versions[client.client_id] = version
        if self.lifecycle_events and lifecycle.emits_events(client.client_id):
            self.route(
                lifecycle.connected(
                    client.client_id, client.session_identifier, client.principal, client.source_ip, version
                ),
                None,
            )
        return version

    def connection_closed(self, client: Client, reason: DisconnectReason, publish_will: bool) -> None:
        session = client.session
        if self.lifecycle_events and lifecycle.emits_events(client.client_id):
            self.route(
                lifecycle.disconnected(
                    client.client_id,
                    client.session_identifier,
                    client.principal,
                    client.version_number,
                    reason,
                ),
                None,
            )
        will = client.will
        if will is not None and publish_will and reason is not DisconnectReason.CLIENT_INITIATED_DISCONNECT:
            self.route(self._will_message(client, will), None)
        if session is None or session.connection is not client:
            return
        session.detach()
        if session.expiry == 0:
            self._discard(session)
        else:
            loop = asyncio.get_running_loop()
            session.expiry_handle = loop.call_later(session.expiry, self._expire, session)

    def _will_message(self, client: Client, will: codec.Will) -> Message:
        return Message(
            topic=will.topic,
            payload=will.payload,
            qos=will.qos,
            retain=will.retain,
            properties=message_properties(will.properties, self.limits.max_message_expiry_seconds),
            publisher=Publisher(client.client_id, client.principal, client.source_ip),
        )

    def subscriptions_changed(self, client: Client, event: str, topics: list[str]) -> None:
        if self.lifecycle_events and lifecycle.emits_events(client.client_id):
            message = lifecycle.subscriptions(
                event, client.client_id, client.session_identifier, client.principal, topics
            )
            self.route(message, None)


def _pick(group: SharedGroup[Session]) -> Subscription[Session] | None:
    """Round-robin over the group's connected members (offline persistent members only if none is online)."""
    members = group.members
    count = len(members)
    for step in range(count):
        candidate = members[(group.cursor + step) % count]
        if candidate.owner.connection is not None:
            group.cursor = (group.cursor + step + 1) % count
            return candidate
    return members[0] if members else None
