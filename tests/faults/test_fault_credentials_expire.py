"""Fault: the user's identity-pool credentials expire during a stream.

Credentials sign the WebSocket upgrade only; an open connection outlives them (docs/security.md, "Expiring
credentials on a live connection": as we understand AWS behaves; AWS caps a SigV4 WebSocket connection at
24 h). A reconnect must sign with fresh credentials: the client renews credentials that expire within 5 minutes
before every (re)connect (`clients/transport.py`). Cognito's credentials last 1 h
(https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html); here
they last 2 s so that they expire mid-answer.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from clients import Client
from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.faultkit import new_user, running
from tests.support.tcp_proxy import CuttableProxy

CREDENTIAL_SECONDS = 2
LONG_SCRIPT = " ".join(f"word{i}" for i in range(90)) + "."  # 3 s at 30 tokens/s


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningLocalcore, Target]]:
    with running(tmp_path_factory.mktemp("creds"), {"SCRIPTED_TEXT": LONG_SCRIPT}) as (core, target):
        for pool in core.core.identity.identity_pools.pools.values():
            pool.credential_seconds = CREDENTIAL_SECONDS
        yield core, target


def test_an_open_connection_outlives_its_credentials_and_a_reconnect_renews_them(
    stack: tuple[RunningLocalcore, Target],
) -> None:
    """The answer keeps streaming after the credentials expired; a dropped connection then reconnects with
    renewed credentials, its session resumed, and the next answer streams. (The client renews in one place for
    both transports, `renew_expiring_credentials`; the MQTT 5 one is used here.)"""
    _, target = stack
    session = new_user(target)
    proxy = CuttableProxy(session.config.mqtt_port)
    session.config = dataclasses.replace(session.config, websocket_endpoint=f"ws://127.0.0.1:{proxy.port}")
    first = session.temporary_credentials
    resumed = threading.Event()

    def on_status(status: str) -> None:
        if status == "resumed":
            resumed.set()

    try:
        with Client(session, on_status=on_status) as chat:
            answer = chat.ask("a long one").wait()
            assert answer.text == LONG_SCRIPT
            assert first.expiration < datetime.now(UTC), "the credentials should have expired mid-answer"
            proxy.cut()
            assert resumed.wait(30), "no reconnect"
            assert session.temporary_credentials.credentials != first.credentials
            assert chat.ask("and now?").wait().text == LONG_SCRIPT
    finally:
        proxy.close()
