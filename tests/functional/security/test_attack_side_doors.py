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

from clients.presign import AwsCredentials, presign_mqtt_url, sign_http_request
from clients.session import Session
from localcore.admin_credentials import ADMIN_CREDENTIALS_FILE
from localcore.testing import RunningLocalcore
from tests.functional.security.test_attack_credentials import NOT_AUTHORIZED, refusals, upgrade_status
from tests.functional.session.session_support import authz_events, paho_ws

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
