"""Attack matrix, side doors: ways around the IoT policies through the rest of the stack. The local admin key,
a signature scoped to another region, and (below) the DynamoDB table the Lambdas keep their state in. Each
attack is refused and the victim keeps streaming (`unaffected`)."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from clients.presign import AwsCredentials, presign_mqtt_url, sign_http_request
from clients.session import Session
from iotstream_lambdas.streaming.state import StateStore
from iotstream_lambdas.streaming.wire import End, prompt_topic
from localcore.functions import STATE_TABLE
from localcore.iam.admin_key import ADMIN_CREDENTIALS_FILE
from localcore.testing import RunningLocalcore
from tests.functional.security.test_attack_credentials import NOT_AUTHORIZED, refusals, upgrade_status
from tests.support.session_support import SCRIPT, CrtClient, authz_events, new_prompt, paho_ws

OLD_FIXED_SECRET = "localcore-admin-secret"


def admin_key(core: RunningLocalcore) -> AwsCredentials:
    return AwsCredentials(core.core.admin.access_key_id, core.core.admin.secret_access_key)


def test_the_admin_secret_is_made_per_state_dir_and_kept_private(core: RunningLocalcore) -> None:
    """No published admin key: the secret is random, stored in the state dir readable by its owner only
    (0600), and it is the one the stack accepts (the ready file repeats it, as `iotstream up` prints it)."""
    path = Path(core.core.config.state_dir) / ADMIN_CREDENTIALS_FILE
    stored = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored["SecretAccessKey"] == core.endpoints["admin_secret_access_key"] != OLD_FIXED_SECRET
    assert len(stored["SecretAccessKey"]) == 40 and stored["AccessKeyId"].startswith("AKIA")
    assert core.client("iot").list_policies()["policies"]  # the stack's own admin key works


def test_the_admin_key_is_refused_on_mqtt_and_takes_over_no_client_id(
    core: RunningLocalcore,
    attacker: Session,
    victim: Session,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """The admin key is allowed everything on the AWS APIs, so on MQTT it could take any client id (mqtt.html:
    a new connection with an id in use disconnects the old one) and read `#`. It is refused at CONNECT
    (0x87, before the takeover rule runs) unless `iotstream up --admin-mqtt` asks for it."""
    signed = presign_mqtt_url(victim.config.websocket_endpoint, admin_key(core), victim.config.region)
    assert upgrade_status(signed) == 101  # a valid signature: the refusal is the broker's, by principal
    with paho_ws(attacker, client_id=victim.identity_id, presigned=signed) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code == NOT_AUTHORIZED
        client.wait_disconnected()
    assert authz_events(caplog, event="connect-refused", resource=victim.identity_id)
    unaffected()


def test_a_signature_scoped_to_another_region_is_refused(
    attacker: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """The credential scope names the region (`<date>/<region>/<service>/aws4_request`); AWS refuses a scope
    for another region even when the HMAC is right: InvalidSignatureException "Credential should be scoped
    to a valid region" (https://github.com/aws/aws-sdk-ruby/issues/508, https://github.com/aws/aws-sdk-js-v3/issues/5576).
    Both the WebSocket upgrade (403) and the HTTP APIs (iot-data Publish here) refuse it."""
    config = attacker.config
    other = "eu-west-1" if config.region != "eu-west-1" else "us-east-1"
    signed = presign_mqtt_url(config.websocket_endpoint, attacker.credentials, other)
    assert upgrade_status(signed) == 403
    assert refusals(caplog, "wrong_region")
    url = f"{config.endpoint_url}/topics/chat/{attacker.identity_id}/prompt"
    headers = sign_http_request("POST", url, attacker.credentials, other, "iotdata", body=b"{}")
    request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 403
    assert error.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert json.loads(error.value.read()) == {"message": "Credential should be scoped to a valid region."}
    unaffected()


def _store(core: RunningLocalcore, credentials: AwsCredentials) -> StateStore:
    """The prompt function's state store, driven with someone else's key."""
    client = core.client(
        "dynamodb",
        access_key_id=credentials.access_key_id,
        secret_key=credentials.secret_key,
        **({"session_token": credentials.session_token} if credentials.session_token else {}),
    )
    return StateStore(client, STATE_TABLE)


def _code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    error = caught.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]


def test_a_made_up_key_reads_and_writes_nothing_in_the_state_table(
    core: RunningLocalcore, victim: Session, victim_client: CrtClient, unaffected: Callable[[], None]
) -> None:
    """Every DynamoDB request is SigV4-verified like the rest of localcore: a key nobody issued (or no
    signature at all) gets DynamoDB's 400 UnrecognizedClientException / MissingAuthenticationTokenException
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html), not the table."""
    victim_client.stream(victim_client.prompt(victim, "something private"))  # there is history to steal
    made_up = _store(core, AwsCredentials("AKIAMADEUPMADEUP0000", "made-up-secret"))
    with pytest.raises(ClientError) as scan:
        made_up.client.scan(TableName=STATE_TABLE)
    assert _code(scan) == (400, "UnrecognizedClientException")
    unsigned = urllib.request.Request(
        core.endpoints["dynamodb"],
        data=json.dumps({"TableName": STATE_TABLE}).encode(),
        headers={"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(unsigned, timeout=10)
    assert error.value.code == 400
    assert json.loads(error.value.read())["__type"] == "MissingAuthenticationTokenException"
    unaffected()


def test_a_user_cannot_read_history_or_cancel_another_users_stream_through_the_table(
    core: RunningLocalcore,
    attacker: Session,
    victim: Session,
    victim_client: CrtClient,
    unaffected: Callable[[], None],
) -> None:
    """A signed-in user's credentials carry the authenticated role, which grants no DynamoDB action (only the
    prompt and cancel functions' roles do, as CDK grants them): reading the victim's history and writing a
    cancel flag for the victim's next request are AccessDeniedException (400). The victim's request with that
    very rid then streams its whole answer instead of stopping as `cancelled`."""
    attacker_store = _store(core, attacker.credentials)
    rid, payload = new_prompt("do not cancel me")
    with pytest.raises(ClientError) as cancel:
        attacker_store.set_cancelled(victim.identity_id, rid)
    assert _code(cancel) == (400, "AccessDeniedException")
    message = cancel.value.response["Error"]["Message"]  # IAM's words; the deciding statement is only logged
    assert message.endswith("because no identity-based policy allows the dynamodb:UpdateItem action")
    assert "is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:" in message
    for steal in (
        lambda: attacker_store.load_history(victim.identity_id, "default", 10),
        lambda: attacker_store.client.scan(TableName=STATE_TABLE),
    ):
        with pytest.raises(ClientError) as read:
            steal()
        assert _code(read) == (400, "AccessDeniedException")
    victim_client.publish(prompt_topic(victim.identity_id), payload)
    answer = victim_client.stream(rid)
    assert isinstance(answer.terminal, End) and (answer.text, answer.terminal.stop) == (SCRIPT, "end_turn")
    unaffected()


def test_the_embedded_services_reset_routes_are_not_served(
    core: RunningLocalcore, victim: Session, victim_client: CrtClient, unaffected: Callable[[], None]
) -> None:
    """moto's `/moto-api/reset` wiped the table from any caller; moto now listens on no socket and the gateway
    serves none of its admin routes: 404, and the table is intact."""
    rid = victim_client.prompt(victim, "remember me")
    victim_client.stream(rid)
    for path in ("/moto-api/reset", "/moto-api/data.json", "/moto-api/"):
        request = urllib.request.Request(core.url + path, data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        assert error.value.code in (404, 405), path
    admin = _store(core, admin_key(core))
    assert admin.request_status(victim.identity_id, rid) == "end_turn"
    unaffected()
