"""The browser's presigned MQTT-over-WebSocket URL (clients/web/src/sigv4.ts) is byte for byte the URL
`clients/presign.py` builds, for the same credentials, endpoint and time.

AWS IoT's procedure: GET /mqtt, service `iotdevicegateway`, signed header `host`, the empty-payload hash, and
`X-Amz-Security-Token` appended after signing — https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html
and AWS's browser sample https://github.com/aws-samples/aws-iot-wss-ts-client (web/src/index.ts).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clients.presign import AwsCredentials, presign_mqtt_url

MOMENT = datetime(2024, 11, 23, 13, 5, 9, tzinfo=UTC)
CASES = [
    (
        "ws://127.0.0.1:8080",
        AwsCredentials("ASIALOCAL0000000001", "secret/with+chars=", "tok+en/with=sp ace"),
        "us-east-1",
    ),
    (
        "wss://abc123-ats.iot.eu-west-1.amazonaws.com",
        AwsCredentials("ASIAAWS000000000001", "s3cr3t", "FQoG+/=="),
        "eu-west-1",
    ),
    (
        "wss://abc123-ats.iot.eu-west-1.amazonaws.com:443",
        AwsCredentials("AKIA0000000000000001", "k", None),
        "eu-west-1",
    ),
    (
        "abc123-ats.iot.ap-south-1.amazonaws.com",
        AwsCredentials("ASIA0000000000000002", "k2", "t"),
        "ap-south-1",
    ),
    ("wss://localhost:8883", AwsCredentials("ASIA0000000000000003", "k3", "t3"), "us-west-2"),
]


@pytest.mark.parametrize(("endpoint", "credentials", "region"), CASES)
def test_browser_presigned_url_equals_python_presign(js_module, endpoint, credentials, region):
    """AWS IoT SigV4 WebSocket URL (protocols.html): the page and presign.py sign the same canonical request."""
    expected = presign_mqtt_url(endpoint, credentials, region, now=MOMENT).url
    data = {
        "endpoint": endpoint,
        "credentials": {
            "accessKeyId": credentials.access_key_id,
            "secretAccessKey": credentials.secret_key,
            **({"sessionToken": credentials.session_token} if credentials.session_token else {}),
        },
        "region": region,
        "now": MOMENT.isoformat(),
    }
    url = js_module("sigv4").run(
        "return m.presignMqttUrl(input.endpoint, input.credentials, input.region, new Date(input.now));", data
    )
    assert url == expected


def test_session_token_is_appended_after_the_signature(js_module):
    """AWS IoT does not sign X-Amz-Security-Token: it follows X-Amz-Signature (aws-iot-wss-ts-client sample)."""
    url = js_module("sigv4").run(
        'return m.presignMqttUrl("wss://h", {accessKeyId: "A", secretAccessKey: "S", sessionToken: "T/+"}, "r");',
        {},
    )
    query = url.split("?", 1)[1].split("&")
    assert [part.split("=")[0] for part in query][-2:] == ["X-Amz-Signature", "X-Amz-Security-Token"]
    assert query[-1] == "X-Amz-Security-Token=T%2F%2B"
