"""Local mode: username = identity id, the shipped `user` policy enforced by the broker (docs/architecture.md topics table)."""

from __future__ import annotations

import pytest

from localcore.broker.local_auth import LocalModeAuthenticator
from localcore.broker.message import Message

USER = "us-east-1:11111111-2222-3333-4444-555555555555"
OTHER = "us-east-1:99999999-2222-3333-4444-555555555555"


@pytest.fixture
def local(make_broker):
    return make_broker(authenticator=LocalModeAuthenticator())


def test_user_policy_allows_own_topics_only(local, client):
    """user.json: publish chat/{id}/prompt, subscribe chat/{id}/response/+, receive own responses only."""
    me = client(local.mqtt_port, USER, protocol=5, username=USER).connect()
    assert me.subscribe("chat/" + USER + "/response/+") == [1]
    assert me.subscribe("chat/+/response/+") == [0x87]
    assert me.publish(f"chat/{USER}/prompt", b"{}", qos=1) == 0
    assert me.publish(f"chat/{OTHER}/prompt", b"{}", qos=1) == 0x87
    local.publish(Message(f"chat/{USER}/response/r1", b"mine", qos=1))
    assert me.expect(1)[0].payload == b"mine"


def test_client_id_must_belong_to_the_identity(local, client):
    """user.json ConnectAsOwnIdentity: client id `{id}` or `{id}-*`; another user's id is refused (0x87)."""
    client(local.mqtt_port, f"{USER}-tab2", protocol=5, username=USER).connect()
    thief = client(local.mqtt_port, OTHER, protocol=5, username=USER)
    thief.connect(expect_success=False)
    assert thief.connack.reason_code == 0x87


def test_no_username_is_refused(local, client):
    """Local mode needs the identity id as MQTT username: without one, CONNACK 0x86."""
    anonymous = client(local.mqtt_port, USER, protocol=5)
    anonymous.connect(expect_success=False)
    assert anonymous.connack.reason_code == 0x86


DEFAULT_FEATURES_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": "arn:aws:iot:*:*:client/${iot:ClientId}",
            "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}},
        },
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:*:*:topic/wills/*"},
    ],
}


@pytest.fixture
def default_features_only(make_broker):
    from iot_policies import parse_policy

    return make_broker(authenticator=LocalModeAuthenticator([parse_policy(DEFAULT_FEATURES_ONLY)]))


def test_connect_attributes_reach_the_policy(default_features_only, client):
    """iot:ConnectAttributes (mqtt.html "Using connectAttributes", connect-policy.html): a persistent session
    (3.1.1 cleanSession=0, MQTT 5 Session Expiry > 0) asks for PersistentConnect and a Will for LastWill, so
    AWS's "only default features" policy refuses both and allows a plain clean connection."""
    port = default_features_only.mqtt_port
    client(port, "plain", protocol=5, username=USER).connect()
    client(port, "plain311", protocol=4, username=USER).connect()
    persistent = client(port, "persistent", protocol=5, username=USER, session_expiry=3600)
    persistent.connect(expect_success=False)
    assert persistent.connack is not None and persistent.connack.reason_code == 0x87
    persistent311 = client(port, "persistent311", protocol=4, clean=False, username=USER)
    persistent311.connect(expect_success=False)
    assert (
        persistent311.connack is not None and persistent311.connack.reason_code == 0x87
    )  # paho: 3.1.1 code 5
    with_will = client(port, "with-will", protocol=5, username=USER)
    with_will.client.will_set("wills/with-will", b"gone")
    with_will.connect(expect_success=False)
    assert with_will.connack is not None and with_will.connack.reason_code == 0x87
