"""Start and stop the broker with all its listeners; composable with localcore's other services.

async with BrokerServer(ServerConfig(mqtt_port=0, mqtts_port=None, ws_port=0)) as server:
    server.endpoints      # ports bound, 0 → a real port: {"mqtt": "127.0.0.1:50123", "ws": "ws://…/mqtt", ...}

(`await server.start()` / `await server.stop()` do the same in two calls.) A listener that cannot bind raises
`ListenError` naming it ("mqtt", "mqtts", "ws", "wss"), after the listeners already bound are closed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from localcore.aio.listen import binding
from localcore.aio.service import Service
from localcore.broker.authorization import Authenticator, HandshakeVerifier
from localcore.broker.broker import Broker
from localcore.broker.limits import BrokerLimits
from localcore.broker.listeners import TcpListener, WebSocketListener
from localcore.broker.tls import LocalCA, ensure_local_ca

log = logging.getLogger("localcore.broker.server")


@dataclass
class ServerConfig:
    """Where to listen; a port of None switches that listener off, 0 picks a free port."""

    host: str = "127.0.0.1"
    mqtt_port: int | None = 1883
    mqtts_port: int | None = 8883
    ws_port: int | None = 8080
    wss_port: int | None = None
    state_dir: Path = field(default_factory=lambda: Path(".localcore"))
    limits: BrokerLimits = field(default_factory=BrokerLimits)


class BrokerServer(Service):
    """A Broker plus its TCP, TLS and WebSocket listeners."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        authenticator: Authenticator | None = None,
        handshake_verifier: HandshakeVerifier | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        self.broker = broker or Broker(authenticator, self.config.limits)
        self.handshake_verifier = handshake_verifier
        self.ca: LocalCA | None = None
        self.mqtt: TcpListener | None = None
        self.mqtts: TcpListener | None = None
        self.ws: WebSocketListener | None = None
        self.wss: WebSocketListener | None = None
        self.endpoints: dict[str, str] = {}

    async def start(self) -> None:
        config = self.config
        host = config.host
        if config.mqtts_port is not None or config.wss_port is not None:
            self.ca = ensure_local_ca(config.state_dir)
        try:
            if config.mqtt_port is not None:
                self.mqtt = TcpListener(self.broker, host, config.mqtt_port)
                with binding("mqtt", host, config.mqtt_port):
                    await self.mqtt.start()
                self.endpoints["mqtt"] = f"{host}:{self.mqtt.port}"
            if config.mqtts_port is not None and self.ca is not None:
                self.mqtts = TcpListener(self.broker, host, config.mqtts_port, self.ca.server_context())
                with binding("mqtts", host, config.mqtts_port):
                    await self.mqtts.start()
                self.endpoints["mqtts"] = f"{host}:{self.mqtts.port}"
            if config.ws_port is not None:
                self.ws = WebSocketListener(self.broker, host, config.ws_port, self.handshake_verifier)
                with binding("ws", host, config.ws_port):
                    await self.ws.start()
                self.endpoints["ws"] = f"ws://{host}:{self.ws.port}/mqtt"
            if config.wss_port is not None and self.ca is not None:
                self.wss = WebSocketListener(
                    self.broker, host, config.wss_port, self.handshake_verifier, self.ca.server_context()
                )
                with binding("wss", host, config.wss_port):
                    await self.wss.start()
                self.endpoints["wss"] = f"wss://{host}:{self.wss.port}/mqtt"
        except BaseException:  # a listener that cannot bind, or a cancelled start: close what is bound
            await self.stop()
            raise
        if self.ca is not None:
            self.endpoints["ca_file"] = str(self.ca.ca_file.resolve())
        log.info("broker listening: %s", self.endpoints)

    async def stop(self) -> None:
        """Stop accepting, disconnect every client, close the listeners."""
        listeners = [self.mqtt, self.mqtts, self.ws, self.wss]
        for listener in listeners:
            if listener is not None:
                listener.close()
        await self.broker.shutdown()
        for listener in listeners:
            if listener is not None:
                await listener.stop()

    @property
    def mqtt_port(self) -> int:
        assert self.mqtt is not None, "the TCP listener is off"
        return self.mqtt.port

    @property
    def ws_port(self) -> int:
        assert self.ws is not None, "the WebSocket listener is off"
        return self.ws.port

    @property
    def mqtts_port(self) -> int:
        assert self.mqtts is not None, "the TLS listener is off"
        return self.mqtts.port
