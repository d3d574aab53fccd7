"""`iotstream up`: run localcore's broker (MQTT, MQTT over TLS, MQTT over WebSockets) in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from localcore.broker.authorization import AllowAllAuthenticator, Authenticator
from localcore.broker.limits import BrokerLimits
from localcore.broker.local_auth import LocalModeAuthenticator
from localcore.broker.server import BrokerServer, ServerConfig, write_ready_file


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--mqtt-port", type=int, default=1883, help="MQTT over TCP (0 = any free port)")
    parser.add_argument("--mqtts-port", type=int, default=8883, help="MQTT over TLS with the local CA")
    parser.add_argument("--ws-port", type=int, default=8080, help="MQTT over WebSockets on /mqtt")
    parser.add_argument("--state-dir", type=Path, default=Path(".localcore"), help="local CA and state")
    parser.add_argument("--ready-file", type=Path, help="write the endpoints as JSON here once ready")
    parser.add_argument("--no-limits", action="store_true", help="switch AWS IoT's quotas off")
    parser.add_argument(
        "--auth",
        choices=("local", "allow-all"),
        default="local",
        help="local: MQTT username = identity id, the shipped user policy applies (default); allow-all: no checks",
    )
    parser.add_argument("--log-level", default="INFO", help="Python logging level (default INFO)")


def _authenticator(name: str) -> Authenticator:
    return LocalModeAuthenticator() if name == "local" else AllowAllAuthenticator()


async def serve(args: argparse.Namespace) -> None:
    """Start, announce the endpoints, wait for SIGINT/SIGTERM, stop cleanly."""
    config = ServerConfig(
        host=args.host,
        mqtt_port=args.mqtt_port,
        mqtts_port=args.mqtts_port,
        ws_port=args.ws_port,
        state_dir=args.state_dir,
        limits=BrokerLimits.unlimited() if args.no_limits else BrokerLimits(),
    )
    server = BrokerServer(config, _authenticator(args.auth))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    try:
        for name, value in server.endpoints.items():
            print(f"  {name:8} {value}")
        if "ca_file" in server.endpoints:
            print(f"clients trust the local CA at {server.endpoints['ca_file']}")
        if args.ready_file is not None:
            write_ready_file(args.ready_file, server.endpoints)
        print("localcore ready (Ctrl-C stops)", flush=True)
        await stop.wait()
    finally:
        print("stopping localcore", flush=True)
        await server.stop()
        if args.ready_file is not None:
            with contextlib.suppress(FileNotFoundError):
                args.ready_file.unlink()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(args))
    except OSError as error:
        print(f"iotstream up: cannot listen: {error}", file=sys.stderr)
        return 1
    return 0
