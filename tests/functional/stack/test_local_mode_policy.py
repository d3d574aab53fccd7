"""Local mode (plain MQTT, username = identity id) is decided by the live `iotstream-user` policy."""

from __future__ import annotations

import json
import uuid

from clients.local_app import local_config
from localcore.broker.testing import MqttTestClient
from localcore.testing import RunningLocalcore

DENY_SUBSCRIBE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
        {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": "*"},
    ],
}


def test_local_mode_follows_policy_changes_made_on_the_control_plane() -> None:
    """CreatePolicyVersion(setAsDefault) changes what local-mode connections may do, at once
    (localcore applies policy changes immediately; AWS takes up to 6-8 minutes, iot-policies.html)."""
    user = f"us-east-1:{uuid.uuid4()}"
    with RunningLocalcore(local_config()) as stack:
        iot = stack.client("iot")
        with MqttTestClient(stack.mqtt_port, client_id=user, username=user) as client:
            client.connect()
            assert client.subscribe(f"chat/{user}/response/+") == [1]
            iot.create_policy_version(
                policyName="iotstream-user", policyDocument=json.dumps(DENY_SUBSCRIBE), setAsDefault=True
            )
            assert client.subscribe(f"chat/{user}/response/+") == [0x87]
            iot.set_default_policy_version(policyName="iotstream-user", policyVersionId="1")
            assert client.subscribe(f"chat/{user}/response/+") == [1]


def test_local_mode_needs_a_username() -> None:
    """Local mode: the MQTT username is the identity id; without one the CONNECT is refused (0x86)."""
    with RunningLocalcore(local_config()) as stack:
        client = MqttTestClient(stack.mqtt_port, client_id="anonymous")
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code == 0x86
