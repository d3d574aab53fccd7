"""The seam between one connection's protocol and the broker, both ways, as two small `typing.Protocol`s.

`Router` is what a `ServerProtocol` needs from the broker (sessions, subscriptions, retained messages, routing,
lifecycle events, authentication, limits); `Client` is what the broker reads back from a connection. Neither
side imports the other: `Broker` is a Router, `ServerProtocol` is a Client.
"""

from __future__ import annotations

from typing import Protocol

from localcore.broker import codec
from localcore.broker.authorization import Authenticator
from localcore.broker.lifecycle import DisconnectReason
from localcore.broker.limits import BrokerLimits
from localcore.broker.message import Message
from localcore.broker.sessions import Outbound, Session
from localcore.broker.topics import ParsedFilter


class Client(Outbound, Protocol):
    """A connection as the broker sees it: a session's Outbound, plus who is connected (lifecycle events, Will)."""

    @property
    def client_id(self) -> str: ...

    @property
    def principal(self) -> str: ...

    @property
    def session_identifier(self) -> str: ...

    @property
    def source_ip(self) -> str: ...

    @property
    def version_number(self) -> int: ...

    @property
    def will(self) -> codec.Will | None: ...

    @property
    def session(self) -> Session | None: ...


class Router(Protocol):
    """What a connection needs from the broker."""

    @property
    def limits(self) -> BrokerLimits: ...

    @property
    def authenticator(self) -> Authenticator: ...

    def validate_publish_topic(self, topic: str, retain: bool) -> None:
        """Raise `InvalidTopic` for a topic AWS refuses to publish to."""
        ...

    def open_session(
        self, client_id: str, level: int, clean_start: bool, expiry: int
    ) -> tuple[Session, bool]:
        """Take over the client id (closing its other connection); the session, and whether it is resumed."""
        ...

    def client_connected(self, client: Client) -> int:
        """The connection's version number (AWS lifecycle events' `versionNumber`)."""
        ...

    def connection_closed(self, client: Client, reason: DisconnectReason, publish_will: bool) -> None: ...

    def route(self, message: Message, origin: Session | None) -> None: ...

    def note_throttled(self, client_id: str, topic: str) -> None: ...

    def subscribe(
        self, session: Session, parsed: ParsedFilter, qos: int, no_local: bool, retain_as_published: bool
    ) -> bool:
        """Add or replace a subscription; True when it is new."""
        ...

    def unsubscribe(self, session: Session, parsed: ParsedFilter) -> bool: ...

    def deliver_retained(self, session: Session, parsed: ParsedFilter, qos: int) -> None: ...

    def subscriptions_changed(self, client: Client, event: str, topics: list[str]) -> None: ...
