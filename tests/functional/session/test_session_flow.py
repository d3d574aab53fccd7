"""The sign-in flow users run (clients/session.py) against localcore, end to end with boto3 and awsiotsdk.

AWS: Cognito enhanced flow (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html),
IoT policies for Cognito identities (https://docs.aws.amazon.com/iot/latest/developerguide/cog-iot-policies.html),
MQTT over WebSockets with SigV4 (https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as paho
import pytest

from clients.config import ClientConfig
from clients.session import sign_in
from iotstream_lambdas.streaming.wire import (
    cancel_topic,
    decode_event,
    event_text,
    prompt_topic,
    response_filter,
)
from localcore.testing import RunningLocalcore
from tests.support.session_support import (
    PASSWORD,
    SCRIPT,
    CrtClient,
    Users,
    authz_events,
    new_prompt,
    paho_ws,
)

IDENTITY_ID = re.compile(r"^us-east-1:[0-9a-f-]{36}$")


def test_sign_up_and_sign_in_yields_identity_credentials_and_policy(
    users: Users, core: RunningLocalcore
) -> None:
    """Enhanced flow: InitiateAuth -> GetId -> GetCredentialsForIdentity (1 h credentials), then the attach-policy
    function URL attaches `iotstream-user` to the caller's identity (cog-iot-policies.html: AttachPolicy, target =
    identity id)."""
    session = users.create("alice")
    assert IDENTITY_ID.match(session.identity_id)
    assert session.credentials.access_key_id.startswith("ASIA") and session.credentials.session_token
    remaining = session.temporary_credentials.expiration - datetime.now(UTC)
    assert timedelta(minutes=55) < remaining <= timedelta(hours=1)
    assert session.attached_policy == "iotstream-user"
    attached = core.client("iot").list_attached_policies(target=session.identity_id)["policies"]
    assert [p["policyName"] for p in attached] == ["iotstream-user"]
    again = sign_in(
        session.config, session.username, PASSWORD
    )  # same user, same identity, attach is idempotent
    assert again.identity_id == session.identity_id
    assert again.credentials.access_key_id != session.credentials.access_key_id


def test_two_users_each_stream_their_own_answer_over_awsiotsdk(users: Users) -> None:
    """Each identity publishes chat/{id}/prompt and receives chat/{id}/response/{rid} over awsiotsdk WebSockets with
    SigV4 (client id = identity id); `iotstream-user` scopes every topic to `${cognito-identity.amazonaws.com:sub}`,
    so neither sees the other's responses."""
    alice, bob = users.create("alice"), users.create("bob")
    a, b = CrtClient.open(alice), CrtClient.open(bob)
    try:
        assert a.subscribe(response_filter(alice.identity_id)) == 1
        assert b.subscribe(response_filter(bob.identity_id)) == 1
        rid_a, rid_b = a.prompt(alice, "alice asks"), b.prompt(bob, "bob asks")
        assert a.stream(rid_a).text == SCRIPT
        assert b.stream(rid_b).text == SCRIPT
        assert a.rids() == {rid_a} and b.rids() == {rid_b}
        assert all(t.startswith(f"chat/{alice.identity_id}/") for t in a.topics())
        assert all(t.startswith(f"chat/{bob.identity_id}/") for t in b.topics())
    finally:
        a.close()
        b.close()


def test_dashboard_sees_every_stream_and_cannot_publish_prompts(
    users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    """The dashboard group's role + `iotstream-dashboard` allow Subscribe/Receive on chat/+/response/+ (read only):
    it receives both users' streams; iot:Publish is allowed by neither, so its prompt gets PUBACK 0x87 (MQTT 5,
    mqtt.html reason codes) and the denial is logged."""
    dash = users.create("dash", dashboard=True)
    assert dash.attached_policy == "iotstream-dashboard"
    alice, bob = users.create("alice"), users.create("bob")
    d = CrtClient.open(dash, "board")
    a, b = CrtClient.open(alice), CrtClient.open(bob)
    try:
        assert d.subscribe("chat/+/response/+") == 1
        a.subscribe(response_filter(alice.identity_id))
        b.subscribe(response_filter(bob.identity_id))
        rid_a, rid_b = a.prompt(alice), b.prompt(bob)
        assert d.stream(rid_a).text == SCRIPT and d.stream(rid_b).text == SCRIPT
        assert a.stream(rid_a).text == SCRIPT and b.stream(rid_b).text == SCRIPT
        assert {
            f"chat/{alice.identity_id}/response/{rid_a}",
            f"chat/{bob.identity_id}/response/{rid_b}",
        } <= d.topics()
    finally:
        for client in (d, a, b):
            client.close()
    with paho_ws(dash, protocol=5) as writer:
        writer.connect()
        _, payload = new_prompt()
        assert writer.publish(prompt_topic(dash.identity_id), payload, qos=1) == 0x87
        assert writer.publish(cancel_topic(alice.identity_id), b"{}", qos=1) == 0x87
    denied = authz_events(caplog, event="denied", action="iot:Publish", principal=dash.identity_id)
    assert {e["resource"] for e in denied} == {
        prompt_topic(dash.identity_id),
        cancel_topic(alice.identity_id),
    }


def test_paho_over_presigned_websocket_url_streams(users: Users) -> None:
    """paho with `clients.presign` (the documented presigned /mqtt URL, X-Amz-Security-Token appended after
    signing) connects the same way as awsiotsdk and streams the answer (MQTT 5, client id `{id}-suffix`)."""
    session = users.create("paho")
    client = session.paho_client("cli")
    got: list[paho.MQTTMessage] = []
    connected, finished = threading.Event(), threading.Event()

    def on_connect(c: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason == 0:
            c.subscribe(response_filter(session.identity_id), qos=1)

    def on_subscribe(c: paho.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        connected.set()

    def on_message(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        got.append(message)
        if b'"type":"end"' in message.payload or b'"type":"error"' in message.payload:
            finished.set()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(session.config.mqtt_host, session.config.mqtt_port, keepalive=60)
    client.loop_start()
    try:
        assert connected.wait(20)
        rid, payload = new_prompt()
        client.publish(prompt_topic(session.identity_id), payload, qos=1)
        assert finished.wait(20)
    finally:
        client.disconnect()
        client.loop_stop()
    assert {m.topic for m in got} == {f"chat/{session.identity_id}/response/{rid}"}
    assert "".join(event_text(decode_event(m.payload)) for m in got)  # text rides on start/delta/end


def test_refreshed_credentials_connect_and_suffix_client_ids_work(users: Users) -> None:
    """Credentials expire after 1 h (GetCredentialsForIdentity `Expiration`): `refresh()` runs REFRESH_TOKEN_AUTH
    and GetCredentialsForIdentity again; new connections sign with the new key. Client ids `{id}` and `{id}-*`
    are both allowed by `iotstream-user` (connect-policy.html)."""
    session = users.create("refresh")
    old_key = session.credentials.access_key_id
    assert session.refresh_if_expiring(timedelta(hours=2))  # "expiring" within 2 h: refreshed
    assert not session.refresh_if_expiring(timedelta(minutes=5))
    assert session.credentials.access_key_id != old_key
    client = CrtClient.open(session, "laptop")
    try:
        client.subscribe(response_filter(session.identity_id))
        rid = client.prompt(session)
        assert client.stream(rid).text == SCRIPT
    finally:
        client.close()


def test_client_config_from_ready_file_and_cdk_outputs(tmp_path: Any, core: RunningLocalcore) -> None:
    """One ClientConfig shape for localcore (ready file, explicit boto3 endpoint) and AWS (CDK outputs: wss on
    the ATS endpoint, default endpoints so `endpoint_url` is None)."""
    import json

    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps(core.endpoints))
    local = ClientConfig.from_ready_file(ready)
    assert local.endpoint_url == core.url and not local.tls and local.mqtt_port == core.ws_port
    assert local.dashboard_shards == 8
    outputs = tmp_path / "cdk-outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "IotStream": {
                    "Region": "eu-west-1",
                    "UserPoolId": "eu-west-1_abc",
                    "UserPoolClientId": "client123",
                    "IdentityPoolId": "eu-west-1:0000",
                    "IotDataEndpoint": "abc-ats.iot.eu-west-1.amazonaws.com",
                    "AttachPolicyUrl": "https://xyz.lambda-url.eu-west-1.on.aws/",
                    "DashboardShards": "8",
                    "Topics": "{}",
                }
            }
        )
    )
    aws = ClientConfig.from_cdk_outputs(outputs)
    assert aws.endpoint_url is None and aws.tls and aws.mqtt_port == 443 and aws.dashboard_shards == 8
    assert aws.mqtt_host == "abc-ats.iot.eu-west-1.amazonaws.com"
    assert aws.provider_name == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"


def test_local_sign_up_enforces_the_deployed_password_policy(client_config: ClientConfig) -> None:
    """The local user pool has the deployed pool's password policy (cdk/parts/identity.py: 12 characters,
    lower, upper, digits, no symbol required), so a password AWS would refuse is refused locally with
    Cognito's InvalidPasswordException (API_SignUp.html); local sign-ups are confirmed at once (documented
    difference: on AWS the emailed code must be confirmed first)."""
    from botocore.exceptions import ClientError

    from clients.session import sign_up

    with pytest.raises(ClientError) as short:
        sign_up(client_config, "short-pw-user", "Aa1!aaaa", "short@example.com")  # AWS's default-pool minimum
    assert short.value.response["Error"]["Code"] == "InvalidPasswordException"
    assert "not long enough" in short.value.response["Error"]["Message"]
    assert sign_up(client_config, "no-symbol-user", "Abcdefghijk1", "nosymbol@example.com").confirmed
