"""One stack for the attack matrix, configured as AWS is: sign-ups need confirmation, and plain MQTT without
SigV4 is refused (local mode off). A legitimate `victim` stays connected (awsiotsdk, SigV4 WebSockets) through
every test and must keep streaming: `unaffected()` checks it after each attack."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from clients.config import ClientConfig
from clients.session import Session
from iotstream_lambdas.streaming.wire import response_filter
from localcore.testing import RunningLocalcore
from tests.support.session_support import SCRIPT, CrtClient, Users, stack


@pytest.fixture(scope="package")
def core() -> Iterator[RunningLocalcore]:
    yield from stack(auto_confirm=False, local_mode=False)


@pytest.fixture(scope="package")
def client_config(core: RunningLocalcore) -> ClientConfig:
    return ClientConfig.from_localcore(core.endpoints)


@pytest.fixture(scope="package")
def users(core: RunningLocalcore, client_config: ClientConfig) -> Users:
    return Users(core, client_config)


@pytest.fixture(scope="package")
def victim(users: Users) -> Session:
    return users.create("victim")


@pytest.fixture(scope="package")
def victim_client(victim: Session) -> Iterator[CrtClient]:
    client = CrtClient.open(victim)
    assert client.subscribe(response_filter(victim.identity_id)) == 1
    yield client
    client.close()


@pytest.fixture
def attacker(users: Users) -> Session:
    return users.create("mallory")


@pytest.fixture
def unaffected(victim: Session, victim_client: CrtClient) -> Callable[[], None]:
    """Assert the victim was never disconnected, saw only its own streams, and still streams a full answer."""
    own: set[str] = set()

    def check() -> None:
        rid = victim_client.prompt(victim, "still fine?")
        own.add(rid)
        assert victim_client.stream(rid).text == SCRIPT
        assert not victim_client.interrupted.is_set(), "the victim's connection was interrupted"
        assert all(t.startswith(f"chat/{victim.identity_id}/response/") for t in victim_client.topics())

    return check
