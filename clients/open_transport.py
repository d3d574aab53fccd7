"""A transport by name, imported on first use (each library is slow to import): the one place that knows
both implementations, so neither imports the other nor `clients.transport` imports them (no cycle)."""

from __future__ import annotations

from clients.session import Session
from clients.transport import ConnectOptions, MessageHandler, StatusHandler, Transport, TransportName


def open_transport(
    name: TransportName,
    session: Session,
    options: ConnectOptions,
    on_message: MessageHandler,
    on_status: StatusHandler | None = None,
) -> Transport:
    """A transport of the given kind for a signed-in session (not started yet)."""
    if name == "paho":
        from clients.paho_transport import PahoTransport

        return PahoTransport(session, options, on_message, on_status)
    from clients.mqtt5_transport import Mqtt5Transport

    return Mqtt5Transport(session, options, on_message, on_status)
