"""Attack matrix, floods on the broker: a client that never reads its replies, and a flood of denied requests
into the denial log. Each once hurt everyone: three such clients added 484 MB to localcore in 100 s and never
gave it back; one user wrote 152,000 denial lines (50 MB) in 10 s. Both attackers are signed-in users on SigV4
WebSockets (`raw_client.NeverReadingClient`); the victim streams an answer while each attack runs, and after.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable

import pytest

from clients.config import ClientConfig
from clients.session import Session
from iotstream_lambdas.streaming.wire import decode_event, is_terminal, response_filter
from localcore.broker import codec
from localcore.broker.testing import MessageRecorder
from localcore.lambda_runtime import ConcurrencyConfig
from localcore.testing import RunningLocalcore
from tests.support.raw_client import NeverReadingClient
from tests.support.session_support import AUTHZ_LOGGER, SCRIPT, TIMEOUT, CrtClient, Users, stack

PINGREQ = b"\xc0\x00"


@pytest.fixture
def disconnects(core: RunningLocalcore, attacker: Session) -> MessageRecorder:
    """The attacker's `disconnected` lifecycle events, as a rule on `$aws/events/presence/disconnected/+`
    would see them."""
    prefix = f"$aws/events/presence/disconnected/{attacker.identity_id}"
    recorder = MessageRecorder(lambda message: message.topic.startswith(prefix))
    core.thread.call(lambda: core.core.broker.add_listener(recorder))
    return recorder


@pytest.fixture
def victim_during(victim: Session, victim_client: CrtClient) -> Callable[[Callable[[], object]], str]:
    """`victim_during(attack)`: runs `attack` in a thread, streams one whole victim answer once it has started,
    waits for the attack to end, and returns the answer's text."""

    def run(attack: Callable[[], object]) -> str:
        started = threading.Event()

        def body() -> None:
            started.set()
            attack()

        thread = threading.Thread(target=body, name="attacker", daemon=True)
        thread.start()
        assert started.wait(TIMEOUT)
        rid = victim_client.prompt(victim, "are you still there?")
        text = victim_client.stream(rid).text
        thread.join(60)
        assert not thread.is_alive(), "the attack did not end"
        return text

    return run


def test_a_client_that_never_reads_is_closed_as_a_slow_consumer(
    attacker: Session,
    disconnects: MessageRecorder,
    victim_during: Callable[[Callable[[], object]], str],
    unaffected: Callable[[], None],
) -> None:
    """UNSUBSCRIBE and PINGREQ, as fast as the broker reads them (512 KiB/s), replies never read: what waits
    for the client passes the outbound bound (1 MiB) and the broker closes it, lifecycle `THROTTLED`
    ("disconnected for exceeding a throttling limit",
    https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html). AWS documents no outbound
    bound of its own; before this bound the replies queued without limit."""
    flood = (
        codec.encode_unsubscribe(1, [response_filter(attacker.identity_id)], codec.MQTT5) + PINGREQ
    ) * 500
    sent: list[int] = []
    with NeverReadingClient(attacker, "sink") as client:

        def attack() -> None:
            until = time.monotonic() + 30
            sent.append(client.flood(flood, until, stop=lambda: bool(disconnects.messages)))

        assert victim_during(attack) == SCRIPT
        [event] = disconnects.wait_for(1, timeout=TIMEOUT)
    assert json.loads(event.payload)["disconnectReason"] == "THROTTLED"
    assert sent and sent[0] > 0
    unaffected()


def test_a_flood_of_denied_subscribes_writes_a_bounded_denial_log_that_counts_everything(
    attacker: Session,
    victim: Session,
    disconnects: MessageRecorder,
    victim_during: Callable[[Callable[[], object]], str],
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """2,000 SUBSCRIBEs of 8 of the victim's topics (MQTT 5: SUBACK 0x87, the connection stays; SUBSCRIBE has
    no rate limit): 16,000 denials. The log keeps the first 20 lines whole and counts the rest in summary
    lines (docs/security.md "The denial log"): at most a few dozen lines, and their counts add up to 16,000."""
    caplog.set_level(logging.WARNING, logger=AUTHZ_LOGGER)
    filters = [(f"chat/{victim.identity_id}/response/r{index}", 1) for index in range(8)]
    packets = b"".join(codec.encode_subscribe(n, filters, codec.MQTT5) for n in range(1, 101))
    with NeverReadingClient(attacker, "denied") as client:

        def attack() -> None:
            for _ in range(20):
                client.send(packets)
            client.send(b"\xe0\x00")  # DISCONNECT: handled after every SUBSCRIBE before it

        assert victim_during(attack) == SCRIPT
        disconnects.wait_for(1, timeout=TIMEOUT)
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == AUTHZ_LOGGER and attacker.identity_id in record.getMessage()
    ]
    whole = [line for line in lines if line["event"] == "denied"]
    summaries = [line for line in lines if line["event"] == "denied-summary"]
    assert len(whole) <= 20 * len(summaries) + 20 and len(lines) <= 60
    assert whole[0]["action"] == "iot:Subscribe" and whole[0]["resource"] == filters[0][0]
    assert len(whole) + sum(summary["suppressed"] for summary in summaries) == 16_000
    unaffected()


def _ended(recorder: MessageRecorder) -> set[str]:
    """The rids whose stream has ended (`end` or `error` published) among what `recorder` saw."""
    return {
        event.rid
        for event in map(decode_event, (m.payload for m in list(recorder.messages)))
        if is_terminal(event)
    }


def test_a_prompt_flood_does_not_put_another_users_answer_behind_its_backlog() -> None:
    """One user publishes 120 prompts from 3 connections, each within AWS IoT's 100 publishes/s per connection
    (https://docs.aws.amazon.com/general/latest/gr/iot-core.html), into a stack whose account concurrency is 1
    (the smallest laptop; AWS's is 1,000, https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html),
    so a backlog forms. Throttled async events wait per source and sources take turns (docs/lambda-runtime.md):
    between the victim's prompt and the end of its answer at most a turn of the flood runs, while most of the
    flood still waits. Before, the queue was one line and the victim waited for all of it (36-60 s in the
    attack run). Every flood prompt still gets its terminal event: nothing is lost."""
    connections, per_connection = 3, 40
    with contextlib.contextmanager(stack)(ConcurrencyConfig(account_limit=1)) as running:
        users = Users(running, ClientConfig.from_localcore(running.endpoints))
        victim, attacker = users.create("victim"), users.create("mallory")
        answers = MessageRecorder(lambda m: m.topic.startswith(f"chat/{attacker.identity_id}/response/"))
        running.thread.call(lambda: running.core.broker.add_listener(answers))
        victim_client = CrtClient.open(victim)
        flooders = [CrtClient.open(attacker, f"flood{n}") for n in range(connections)]
        try:
            assert victim_client.subscribe(response_filter(victim.identity_id)) == 1
            flood_rids: set[str] = set()

            def flood(client: CrtClient) -> None:
                for n in range(per_connection):  # 80/s: within the per-connection limit
                    flood_rids.add(client.prompt(attacker, f"flood {n}"))
                    time.sleep(1 / 80)

            threads = [threading.Thread(target=flood, args=(client,)) for client in flooders]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(TIMEOUT)
            ended_before = len(_ended(answers) & flood_rids)
            assert connections * per_connection - ended_before >= 20, "no backlog formed"
            rid = victim_client.prompt(victim, "are you still there?")
            assert victim_client.stream(rid).text == SCRIPT
            ran_meanwhile = len(_ended(answers) & flood_rids) - ended_before
            assert ran_meanwhile <= 3, ran_meanwhile
            running.wait_lambdas_idle(timeout=120)
            assert len(flood_rids) == connections * per_connection
            assert _ended(answers) >= flood_rids
        finally:
            for client in [victim_client, *flooders]:
                client.close()
