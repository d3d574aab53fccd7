"""Attack matrix, identity side: who may open a connection at all. SigV4 problems are refused on the WebSocket
upgrade with HTTP 403 before any MQTT byte (reference 6.1, aws-iot-device-sdk-js #289); identities without the
right policy get CONNACK Not authorized. Each refusal is one JSON line on `localcore.broker.authz`
(`handshake-refused`, `connect-refused` or `denied`), and the victim keeps streaming.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import boto3
import pytest
from awscrt.exceptions import AwsCrtError
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from clients.config import ClientConfig
from clients.errors import AttachPolicyError
from clients.presign import AwsCredentials, PresignedWebSocket, presign_mqtt_url
from clients.session import Session, call_attach_policy, credentials_for, sign_in
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore
from tests.support.identity_clock import identity_clock_shifted
from tests.support.session_support import PASSWORD, CrtClient, Users, authz_events, paho_ws

UPGRADE_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "mqtt",
}
NOT_AUTHORIZED = 0x87


def upgrade_status(signed: PresignedWebSocket) -> int:
    """The HTTP status of the WebSocket upgrade for a presigned path (101 = accepted)."""
    connection = http.client.HTTPConnection(signed.host, signed.port, timeout=10)
    try:
        connection.request(
            "GET", signed.path, headers={**UPGRADE_HEADERS, "Host": f"{signed.host}:{signed.port}"}
        )
        return connection.getresponse().status
    finally:
        connection.close()


def with_query(signed: PresignedWebSocket, **changes: str) -> PresignedWebSocket:
    """The same presigned URL with some query parameters replaced (order kept, values re-encoded)."""
    path, _, query = signed.path.partition("?")
    pairs = [(k, changes.pop(k, v)) for k, v in parse_qsl(query, keep_blank_values=True)]
    new_path = f"{path}?{urlencode(pairs)}"
    return dataclasses.replace(signed, path=new_path, url=signed.url.split("/mqtt")[0] + new_path)


def refusals(caplog: pytest.LogCaptureFixture, reason_prefix: str) -> list[dict[str, object]]:
    return [
        e
        for e in authz_events(caplog, event="handshake-refused")
        if str(e["reason"]).startswith(reason_prefix)
    ]


def test_connect_with_another_identitys_client_id_is_refused_and_does_not_take_over(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """iot:Connect on client/{other id} matches no Allow (`client/${cognito-identity.amazonaws.com:sub}`), so the
    CONNECT is refused *before* the client-id takeover rule (mqtt.html: a new connection with the same id
    disconnects the old one) could kick the victim: MQTT 5 CONNACK 0x87, MQTT 3.1.1 return code 5."""
    for protocol in (5, 4):
        with paho_ws(attacker, client_id=victim.identity_id, protocol=protocol) as client:
            client.connect(expect_success=False)
            assert client.connack is not None and client.connack.reason_code == NOT_AUTHORIZED
            client.wait_disconnected()
    denied = authz_events(caplog, event="denied", action="iot:Connect", principal=attacker.identity_id)
    assert [e["resource"] for e in denied] == [victim.identity_id] * 2
    unaffected()


def test_connect_with_another_identitys_prefixed_client_id_is_refused(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """`client/${sub}-*` allows the caller's own suffixed ids only: `{victim}-x` is refused (CONNACK 0x87)."""
    with paho_ws(attacker, client_id=f"{victim.identity_id}-x") as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code == NOT_AUTHORIZED
    assert authz_events(caplog, action="iot:Connect", resource=f"{victim.identity_id}-x")
    unaffected()


def test_forged_signature_with_a_guessed_secret_is_403(
    attacker: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """SigV4: the signature is an HMAC over the request with the secret key; a real access key id and session
    token with a guessed secret does not verify -> HTTP 403 on the upgrade."""
    real = attacker.credentials
    forged = AwsCredentials(real.access_key_id, "guessed-secret", real.session_token)
    signed = presign_mqtt_url(attacker.config.websocket_endpoint, forged, attacker.config.region)
    assert upgrade_status(signed) == 403
    [event] = refusals(caplog, "signature_mismatch")
    assert event["principal"] == attacker.identity_id
    unaffected()


def test_unknown_access_key_is_403(caplog: pytest.LogCaptureFixture, client_config: ClientConfig) -> None:
    """A key localcore never issued (here: made up) is refused (AWS: UnrecognizedClient) -> HTTP 403."""
    fake = AwsCredentials("ASIAFAKEFAKEFAKEFAKE", "secret", "token")
    assert (
        upgrade_status(presign_mqtt_url(client_config.websocket_endpoint, fake, client_config.region)) == 403
    )
    assert refusals(caplog, "unknown_key")


def test_tampered_signature_is_403(
    attacker: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """Flipping one hex digit of X-Amz-Signature breaks the HMAC -> 403."""
    signed = attacker.presigned_url()
    signature = dict(parse_qsl(signed.path.partition("?")[2]))["X-Amz-Signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert upgrade_status(with_query(signed, **{"X-Amz-Signature": flipped})) == 403
    assert refusals(caplog, "signature_mismatch")
    unaffected()


def test_tampered_url_date_is_403(attacker: Session, caplog: pytest.LogCaptureFixture) -> None:
    """Changing a signed query parameter (X-Amz-Date one second later) changes the canonical request -> 403."""
    now = datetime.now(UTC).replace(microsecond=0)
    signed = attacker.presigned_url(now=now)
    later = (now + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    assert upgrade_status(with_query(signed, **{"X-Amz-Date": later})) == 403
    assert refusals(caplog, "signature_mismatch")


def test_session_token_swapped_for_another_users_is_403(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """X-Amz-Security-Token is appended after signing (not covered by the signature), so the server must check
    that it belongs to the signing key: the victim's token on the attacker's URL is refused."""
    signed = attacker.presigned_url()
    token = victim.credentials.session_token or ""
    assert upgrade_status(with_query(signed, **{"X-Amz-Security-Token": token})) == 403
    assert refusals(caplog, "token_mismatch")


def test_stale_signature_outside_the_skew_window_is_403(
    attacker: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """SigV4 without X-Amz-Expires: X-Amz-Date must be within 5 minutes of the server clock; a URL signed 10
    minutes ago (or 10 minutes ahead) is refused."""
    for offset in (-10, 10):
        signed = attacker.presigned_url(now=datetime.now(UTC) + timedelta(minutes=offset))
        assert upgrade_status(signed) == 403
    assert len(refusals(caplog, "skew")) == 2


def test_expired_presigned_url_is_403(attacker: Session, caplog: pytest.LogCaptureFixture) -> None:
    """A presigned URL with X-Amz-Expires=60 signed two minutes ago has expired (SigV4 query authentication)."""
    signed = attacker.presigned_url(now=datetime.now(UTC) - timedelta(minutes=2), expires=60)
    assert upgrade_status(signed) == 403
    assert refusals(caplog, "expired: the presigned URL has expired")


def test_replayed_presigned_url_after_credential_expiry_is_403(
    core: RunningLocalcore,
    attacker: Session,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """A URL captured while valid (here with X-Amz-Expires=86400, so the signing window is not the obstacle)
    stops working once the identity-pool credentials behind it expire (GetCredentialsForIdentity: 1 h)."""
    signed = attacker.presigned_url(expires=86400)
    assert upgrade_status(signed) == 101
    with identity_clock_shifted(core, 3601):
        assert upgrade_status(signed) == 403
    [event] = refusals(caplog, "expired: the credentials have expired")
    assert event["principal"] == attacker.identity_id
    unaffected()


def test_expired_credentials_are_refused_and_fresh_ones_work(
    core: RunningLocalcore, attacker: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Expired temporary credentials cannot sign a new connection (403), even with a freshly signed URL; the
    remedy is GetCredentialsForIdentity again (Session.refresh)."""
    with identity_clock_shifted(core, 3601):
        later = datetime.now(UTC) + timedelta(seconds=3601)
        with pytest.raises(AwsCrtError):
            CrtClient.open(attacker)
        assert upgrade_status(attacker.presigned_url(now=later)) == 403
        attacker.refresh()
        assert upgrade_status(attacker.presigned_url(now=later)) == 101
    assert refusals(caplog, "expired: the credentials have expired")


def test_unconfirmed_user_cannot_sign_in(users: Users, client_config: ClientConfig) -> None:
    """Cognito: a user who signed up but never confirmed gets UserNotConfirmedException from InitiateAuth, so
    never reaches the identity pool."""
    username = users.register("unconfirmed", confirm=False)
    with pytest.raises(ClientError) as error:
        sign_in(client_config, username, PASSWORD)
    assert error.value.response["Error"]["Code"] == "UserNotConfirmedException"


def test_identity_without_an_attached_policy_cannot_connect(
    users: Users, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """cog-iot-policies.html: an authenticated identity needs an IoT policy attached; the role policy alone
    allows nothing, so CONNECT is refused (CONNACK 0x87 on MQTT 5; awsiotsdk's connect fails)."""
    session = users.create("no-policy", attach=False)
    with paho_ws(session, client_id=session.identity_id) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code == NOT_AUTHORIZED
    with pytest.raises(AwsCrtError):
        CrtClient.open(session)
    denied = authz_events(caplog, event="denied", action="iot:Connect", principal=session.identity_id)
    assert denied and all(e["resource"] == session.identity_id for e in denied)
    unaffected()


def test_attach_url_unsigned_is_403(client_config: ClientConfig) -> None:
    """The attach-policy function URL uses AuthType AWS_IAM: a request without SigV4 is refused with 403
    (lambda/latest/dg/urls-auth.html) and never reaches the function."""
    request = urllib.request.Request(client_config.attach_policy_url, data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 403


def test_attach_url_with_iam_credentials_is_refused(
    client_config: ClientConfig, core: RunningLocalcore, attacker: Session
) -> None:
    """Signed, but not by one of the identity pool's roles (an IAM principal, here the local admin), even with a
    valid ID token: the function checks the IAM-verified caller (`requestContext.authorizer.iam.userArn`) first
    and answers 403 without looking the token up."""
    admin = AwsCredentials(core.core.admin.access_key_id, core.core.admin.secret_access_key)
    with pytest.raises(AttachPolicyError) as error:
        call_attach_policy(client_config, admin, attacker.tokens.id_token)
    assert error.value.status == 403 and "identity pool" in error.value.body


def test_attach_url_ignores_an_identity_named_in_the_body(
    attacker: Session, victim: Session, core: RunningLocalcore
) -> None:
    """The identity comes from the ID token (GetId), never from other body fields: naming the victim and the
    dashboard policy beside one's own token changes nothing for the victim, and the attacker still gets only
    `iotstream-user` on its own identity."""
    from clients.presign import sign_http_request

    config = attacker.config
    body = json.dumps(
        {
            "idToken": attacker.tokens.id_token,
            "identityId": victim.identity_id,
            "policyName": "iotstream-dashboard",
        }
    ).encode()
    headers = sign_http_request(
        "POST", config.attach_policy_url, attacker.credentials, config.region, "lambda", body=body
    )
    request = urllib.request.Request(config.attach_policy_url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        reply = json.loads(response.read())
    assert reply["identityId"] == attacker.identity_id and reply["policyName"] == "iotstream-user"
    iot = core.client("iot")
    assert [p["policyName"] for p in iot.list_attached_policies(target=victim.identity_id)["policies"]] == [
        "iotstream-user"
    ]
    assert [p["policyName"] for p in iot.list_attached_policies(target=attacker.identity_id)["policies"]] == [
        "iotstream-user"
    ]


def test_attach_url_without_an_id_token_is_400(attacker: Session, client_config: ClientConfig) -> None:
    """docs/security.md, "The attach-policy front door": a body without `idToken` is 400 with a message saying what to send."""
    with pytest.raises(AttachPolicyError) as error:
        call_attach_policy(client_config, attacker.credentials, "")
    assert error.value.status == 400 and "idToken" in error.value.body


def client_as(core: RunningLocalcore, session: Session, service: str) -> Any:
    """A boto3 client for `service` signed with the session's Cognito identity credentials."""
    creds = session.credentials
    return core.client(
        service,
        access_key_id=creds.access_key_id,
        secret_key=creds.secret_key,
        session_token=creds.session_token or "",
    )


def test_users_cannot_attach_policies_themselves(attacker: Session, core: RunningLocalcore) -> None:
    """The authenticated role allows IoT data-plane actions only: calling iot:AttachPolicy directly (to grant
    yourself the dashboard policy) is AccessDenied."""
    iot = client_as(core, attacker, "iot")
    with pytest.raises(ClientError) as error:
        iot.attach_policy(policyName="iotstream-dashboard", target=attacker.identity_id)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


def test_users_cannot_add_themselves_to_the_dashboard_group(
    attacker: Session, core: RunningLocalcore, client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """AdminAddUserToGroup is an IAM-authorized cognito-idp operation: unsigned it is refused, and a Cognito
    identity's role does not allow it, so nobody can promote themselves to the dashboard group."""
    unsigned = boto3.client(
        "cognito-idp",
        endpoint_url=core.url,
        region_name=client_config.region,
        config=Config(signature_version=UNSIGNED),
    )
    request = {
        "UserPoolId": client_config.user_pool_id,
        "Username": attacker.username,
        "GroupName": "dashboard",
    }
    with pytest.raises(ClientError) as missing:
        unsigned.admin_add_user_to_group(**request)
    assert missing.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    as_user = client_as(core, attacker, "cognito-idp")
    with pytest.raises(ClientError) as denied:
        as_user.admin_add_user_to_group(**request)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    unaffected()


def test_forged_id_token_gets_no_identity(client_config: ClientConfig, attacker: Session) -> None:
    """cognito-identity verifies the user pool's JWT signature: a token with a tampered payload is refused
    (NotAuthorizedException), so nobody can claim another user's `sub`."""
    header, payload, signature = attacker.tokens.id_token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    with pytest.raises(ClientError) as error:
        credentials_for(
            client_config, attacker.identity_id, dataclasses.replace(attacker.tokens, id_token=tampered)
        )
    assert error.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_plain_mqtt_without_sigv4_is_refused_when_local_mode_is_off(
    core: RunningLocalcore, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """AWS has no unauthenticated MQTT: with local mode off, a plain TCP connection claiming the victim's id as
    username is refused (CONNACK 0x87 / connect-refused)."""
    with MqttTestClient(core.mqtt_port, client_id=victim.identity_id, username=victim.identity_id) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code != 0
    assert authz_events(caplog, event="connect-refused", client_id=victim.identity_id)
    unaffected()
