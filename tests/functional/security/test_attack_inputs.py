"""Attack matrix, malformed input: a request id with a trailing newline, JSON nested deep enough to break
recursive code, and error answers that used to carry Python's own words. Each is refused with the service's
documented error, nothing is lost, and the victim keeps streaming."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

import pytest

from clients.config import ClientConfig
from clients.session import Session
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import INVALID_RID, Error, cancel_topic, prompt_topic, response_filter
from localcore.functions import STATE_TABLE
from localcore.testing import RunningLocalcore
from tests.support.session_support import CrtClient

PYTHON_WORDS = ("Traceback", "recursion", "Error(", "Exception(", "line 1 column")


def _nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.fixture
def own_client(attacker: Session) -> CrtClient:
    client = CrtClient.open(attacker)
    assert client.subscribe(response_filter(attacker.identity_id)) == 1
    return client


def test_a_rid_with_a_trailing_newline_is_refused_not_answered_into_the_void(
    core: RunningLocalcore, attacker: Session, own_client: CrtClient, unaffected: Callable[[], None]
) -> None:
    """A rid must be a UUID and nothing else: `re.match` with `$` also accepted "<uuid>\\n" (`$` matches before
    a final newline), the answer went to a topic no client subscribes to and the state said `end_turn`. With
    `fullmatch` the prompt is refused with the protocol's `invalid_rid` error event (docs/protocol.md), and
    nothing is recorded for it."""
    rid = str(uuid.uuid4())
    payload = json.dumps({"v": 1, "rid": rid + "\n", "text": "hello"}).encode()
    own_client.publish(prompt_topic(attacker.identity_id), payload)
    refused = own_client.stream(INVALID_RID).terminal
    assert isinstance(refused, Error) and refused.code == "invalid_rid"
    admin = StateStore(core.client("dynamodb"), STATE_TABLE)
    assert admin.request_status(attacker.identity_id, rid + "\n") is None
    assert admin.request_status(attacker.identity_id, rid) is None
    own_client.close()
    unaffected()


def test_deeply_nested_json_does_not_break_the_rules_engine(
    core: RunningLocalcore,
    attacker: Session,
    own_client: CrtClient,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """A cancel whose `rid` nests 500 objects deep parsed, then ended the cancel rule (`SELECT rid, ...`) with a
    RecursionError: no action, no errorAction, a traceback in the log. JSON nested deeper than the rules
    engine's limit (100 levels; AWS documents none) is now a non-JSON payload: `rid` is undefined, the rule
    runs its action (the cancel function ignores a cancel without a rid) and nothing fails."""
    payload = json.dumps({"rid": _nested(500)}).encode()
    with caplog.at_level(logging.WARNING, logger="localcore.rules"):
        own_client.publish(cancel_topic(attacker.identity_id), payload)
        core.wait_rules_idle()
    assert not [r for r in caplog.records if r.name.startswith("localcore.rules")]
    own_client.close()
    unaffected()


def test_cognito_answers_deeply_nested_json_with_aws_errors_not_python_text(
    client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """A JSON 1.1 body nested past the parser's limit, or a parameter nested deep enough to break code that
    reads it, is a client error (400) with AWS's code and words; Python's exception text stays in the log."""
    bodies = [
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_config.user_pool_client_id,
                "AuthParameters": {"USERNAME": _nested(900), "PASSWORD": "x"},
            }
        ).encode(),
    ]
    for body in bodies:
        request = urllib.request.Request(
            str(client_config.endpoint_url),
            data=body,
            headers={
                "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
                "Content-Type": "application/x-amz-json-1.1",
            },
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        answer = error.value.read().decode()
        assert error.value.code == 400, answer
        assert json.loads(answer)["__type"] in ("SerializationException", "InvalidParameterException")
        assert not any(word in answer for word in PYTHON_WORDS), answer
    unaffected()
