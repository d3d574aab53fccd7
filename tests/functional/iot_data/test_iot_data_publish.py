"""The iot-data Publish endpoint with boto3 `iot-data`, received by paho subscribers.

AWS pages: https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_Publish.html (`%2F` topics,
403 ForbiddenException, the retain flag) and https://docs.aws.amazon.com/iot/latest/developerguide/http.html
(128 KB payloads).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from localcore.broker.testing import MqttTestClient
from localcore.identity.credentials import Role
from localcore.testing import RunningLocalcore

MAX_PAYLOAD = 128 * 1024


def _subscriber(stack: RunningLocalcore, topic_filter: str, protocol: int = 5) -> MqttTestClient:
    identity = f"watcher-{uuid.uuid4().hex[:8]}"
    client = MqttTestClient(stack.mqtt_port, client_id=identity, username=identity, protocol=protocol)
    client.connect()
    assert client.subscribe(topic_filter, qos=1) == [1]
    return client


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_publish_carries_qos_and_mqtt5_properties_to_a_v5_subscriber(stack: RunningLocalcore) -> None:
    """API_iotdata_Publish: qos, contentType, responseTopic, correlationData (base64), userProperties (JSON),
    payloadFormatIndicator and messageExpiry reach MQTT 5 subscribers as PUBLISH properties."""
    with _subscriber(stack, "devices/h1/data") as watcher:
        stack.client("iot-data").publish(
            topic="devices/h1/data",
            qos=1,
            payload=b'{"hello": "mqtt5"}',
            contentType="application/json",
            responseTopic="devices/h1/reply",
            correlationData=base64.b64encode(b"corr-42").decode(),
            userProperties=[{"deviceName": "alpha"}, {"deviceCnt": "45"}],
            payloadFormatIndicator="UTF8_DATA",
            messageExpiry=300,
        )
        (message,) = watcher.expect(1)
    assert (message.topic, message.qos, message.payload) == ("devices/h1/data", 1, b'{"hello": "mqtt5"}')
    props = message.properties
    assert props["ContentType"] == "application/json"
    assert props["ResponseTopic"] == "devices/h1/reply"
    assert bytes.fromhex(props["CorrelationData"]) == b"corr-42"
    assert props["UserProperty"] == [("deviceName", "alpha"), ("deviceCnt", "45")]
    assert props["PayloadFormatIndicator"] == 1
    assert 0 < props["MessageExpiryInterval"] <= 300


def test_user_properties_given_as_a_json_string_are_accepted(stack: RunningLocalcore) -> None:
    """botocore base64-encodes `json.dumps(value)` of the jsonvalue header; callers who pass the JSON text
    (as the API reference's type `String` suggests) send a JSON string literal, which localcore unwraps."""
    with _subscriber(stack, "devices/h3/data") as watcher:
        stack.client("iot-data").publish(
            topic="devices/h3/data", payload=b"{}", userProperties=json.dumps([{"k": "v"}])
        )
        (message,) = watcher.expect(1)
    assert message.properties["UserProperty"] == [("k", "v")]


def test_qos0_publish_reaches_a_v311_subscriber_without_properties(stack: RunningLocalcore) -> None:
    """MQTT 3.1.1 subscribers get the message at min(publish QoS, subscription QoS), with no properties."""
    with _subscriber(stack, "devices/h2/data", protocol=4) as watcher:
        stack.client("iot-data").publish(
            topic="devices/h2/data", qos=0, payload=b"x", contentType="text/plain"
        )
        (message,) = watcher.expect(1)
    assert (message.qos, message.payload, message.properties) == (0, b"x", {})


def _signed_post(stack: RunningLocalcore, path: str, body: bytes) -> int:
    """POST a SigV4-signed request (service `iotdata`) with the path exactly as given."""
    url = stack.url + path
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/octet-stream"}
    )
    admin = stack.core.admin
    SigV4Auth(Credentials(admin.access_key_id, admin.secret_access_key), "iotdata", "us-east-1").add_auth(
        request
    )
    prepared = urllib.request.Request(url, data=body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def test_topics_arrive_with_encoded_or_raw_slashes(stack: RunningLocalcore) -> None:
    """API_iotdata_Publish.html: the topic is a URI path parameter, so botocore sends `%2F` for every `/`;
    hand-written callers may send a raw `/`, and both name the same topic."""
    with _subscriber(stack, "devices/+/slashes") as watcher:
        assert _signed_post(stack, "/topics/devices%2Fencoded%2Fslashes", b"1") == 200
        assert _signed_post(stack, "/topics/devices/raw/slashes", b"2") == 200
        stack.client("iot-data").publish(topic="devices/boto/slashes", payload=b"3")
        received = watcher.expect(3)
    assert sorted((m.topic, m.payload) for m in received) == [
        ("devices/boto/slashes", b"3"),
        ("devices/encoded/slashes", b"1"),
        ("devices/raw/slashes", b"2"),
    ]


def test_publish_outside_the_callers_policy_is_403_forbidden(stack: RunningLocalcore) -> None:
    """iot-data Publish is authorized with iot:Publish (plus iot:RetainPublish for retain) on the topic ARN;
    a denial is HTTP 403 ForbiddenException (aws-sdk-js-v3 #5562, boto3 #1447)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": "arn:aws:iot:*:*:topic/devices/allowed/*",
            }
        ],
    }
    issued = stack.core.identity.store.mint_iam(Role("device-publisher", policy), "tester")
    client = stack.client("iot-data", access_key_id=issued.access_key_id, secret_key=issued.secret_key)
    client.publish(topic="devices/allowed/1", payload=b"ok")
    with pytest.raises(ClientError) as denied:
        client.publish(topic="devices/other/1", payload=b"no")
    assert _error(denied) == (403, "ForbiddenException")
    with pytest.raises(ClientError) as retain_denied:
        client.publish(topic="devices/allowed/1", payload=b"no", retain=True)
    assert _error(retain_denied) == (403, "ForbiddenException")


def test_cognito_identity_needs_an_attached_iot_policy(stack: RunningLocalcore) -> None:
    """cog-iot-policies.html: an authenticated Cognito identity is allowed only what both its role and the
    IoT policy attached to the identity allow; without an attached policy iot-data answers 403."""
    identity_id = f"us-east-1:{uuid.uuid4()}"
    role = Role("cognito-authenticated", {"Version": "2012-10-17", "Statement": [_allow_iot()]})
    issued = stack.core.identity.store.mint_for_identity(identity_id, "us-east-1:pool", role, True, 3600)
    credentials: dict[str, Any] = {
        "access_key_id": issued.access_key_id,
        "secret_key": issued.secret_key,
        "session_token": issued.session_token,
    }
    client = stack.client("iot-data", **credentials)
    with pytest.raises(ClientError) as denied:
        client.publish(topic="devices/cognito/1", payload=b"no")
    assert _error(denied) == (403, "ForbiddenException")
    stack.client("iot").attach_policy(policyName="iotstream-user", target=identity_id)
    with _subscriber(stack, "devices/cognito/1") as watcher:
        client.publish(topic="devices/cognito/1", payload=b"yes")
        assert watcher.expect(1)[0].payload == b"yes"


def _allow_iot() -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}


def test_payload_over_128_kb_is_refused(stack: RunningLocalcore) -> None:
    """iot-data Publish: the payload limit is 128 KB, as for MQTT (AWS leaves the status unstated; localcore
    answers 413 RequestEntityTooLargeException). Exactly 128 KB is accepted."""
    client = stack.client("iot-data")
    client.publish(topic="devices/big/1", payload=b"a" * MAX_PAYLOAD)
    with pytest.raises(ClientError) as too_big:
        client.publish(topic="devices/big/1", payload=b"a" * (MAX_PAYLOAD + 1))
    assert _error(too_big) == (413, "RequestEntityTooLargeException")


def test_retained_publish_and_empty_retained_delete(stack: RunningLocalcore) -> None:
    """API_iotdata_Publish: retain=true keeps the message for new subscribers; an empty retained payload
    deletes it (mqtt.html "Retained messages")."""
    client = stack.client("iot-data")
    topic = f"devices/retained/{uuid.uuid4().hex[:8]}"
    client.publish(topic=topic, qos=1, retain=True, payload=b'{"state": "on"}')
    with _subscriber(stack, topic) as first:
        (message,) = first.expect(1)
    assert (message.payload, message.retain) == (b'{"state": "on"}', True)
    client.publish(topic=topic, qos=1, retain=True, payload=b"")
    with _subscriber(stack, topic) as second:
        client.publish(topic=topic, qos=1, payload=b"live")  # a marker: anything retained would come first
        second.expect(1)
    assert [(m.payload, m.retain) for m in second.received] == [(b"live", False)]
