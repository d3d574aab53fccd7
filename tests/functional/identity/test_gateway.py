"""The shared HTTP gateway: JSON 1.1 and REST dispatch, AWS-shaped errors, SigV4 on REST routes.

Error shapes: botocore parses JSON 1.1 `__type` and restJson1 `x-amzn-ErrorType`
(https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html, aws-restjson1-protocol.html).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from localcore.http import AwsServiceError, Gateway, verify_signed
from localcore.http.testing import GatewayThread
from localcore.identity import CredentialStore, Role
from localcore.sigv4 import SigV4Verifier


@pytest.fixture
def store() -> CredentialStore:
    return CredentialStore()


@pytest.fixture
def published() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def gw(store: CredentialStore, published: list[dict[str, Any]]) -> Iterator[GatewayThread]:
    gateway = Gateway()
    verifier = SigV4Verifier(store)

    def echo(params: dict[str, Any], _request: web.Request) -> dict[str, Any]:
        return {"Echo": params}

    def crash(_params: dict[str, Any], _request: web.Request) -> dict[str, Any]:
        raise RuntimeError("boom")

    def refuse(_params: dict[str, Any], _request: web.Request) -> dict[str, Any]:
        raise AwsServiceError("NotAuthorizedException", "no")

    async def publish(request: web.Request) -> web.StreamResponse:
        verified = await verify_signed(request, verifier, {"iotdata", "iotdevicegateway"})
        if request.match_info["topic"].startswith("forbidden"):
            raise AwsServiceError("ForbiddenException", "not allowed", 403)
        record: dict[str, Any] = {
            "topic": request.match_info["topic"],
            "qos": request.query.get("qos"),
            "body": await request.read(),
        }
        record["caller"] = verified.credential.caller
        published.append(record)
        return web.json_response({"message": "OK", "traceId": "t"})

    def typed(params: dict[str, Any], _request: web.Request) -> dict[str, Any]:
        return {"Upper": params["Name"].upper()}

    gateway.add_json_target("TestService", {"Echo": echo, "Crash": crash, "Refuse": refuse, "Typed": typed})
    gateway.add_route("POST", "/topics/{topic:.+}", publish, service="iot-data")
    with GatewayThread(gateway) as running:
        yield running


def post(
    gw: GatewayThread, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(gw.url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def json11(gw: GatewayThread, target: str | None, body: bytes = b"{}") -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    return post(gw, "/", body, headers)


def test_json_target_dispatch_and_errors(gw: GatewayThread) -> None:
    """JSON 1.1: `X-Amz-Target: Prefix.Operation` selects the handler; errors are 400 `{"__type", "message"}`."""
    status, headers, body = json11(gw, "TestService.Echo", b'{"A": 1}')
    assert (status, body) == (200, {"Echo": {"A": 1}})
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    status, _, body = json11(gw, "TestService.Refuse")
    assert (status, body) == (400, {"__type": "NotAuthorizedException", "message": "no"})
    for target, raw, code in [
        ("TestService.Nope", b"{}", "UnknownOperationException"),
        ("Other.Echo", b"{}", "UnknownOperationException"),
        (None, b"{}", "UnknownOperationException"),
        ("TestService.Echo", b"{not json", "SerializationException"),
        ("TestService.Echo", b"[1, 2]", "SerializationException"),
        ("TestService.Echo", b"\xff\xfe", "SerializationException"),
        ("TestService.Typed", b'{"Name": 5}', "SerializationException"),
        ("TestService.Typed", b"{}", "SerializationException"),
    ]:
        status, _, body = json11(gw, target, raw)
        assert (status, body["__type"]) == (400, code), target


def test_deeply_nested_json_body_is_a_serialization_error(gw: GatewayThread) -> None:
    """A JSON 1.1 body nested 100000 arrays deep is a client error (400 SerializationException,
    https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html), not a 500 with a traceback logged."""
    status, _, body = json11(gw, "TestService.Echo", b"[" * 100_000 + b"]" * 100_000)
    assert (status, body["__type"]) == (400, "SerializationException")


def test_a_crashing_handler_is_one_500_and_the_gateway_keeps_serving(gw: GatewayThread) -> None:
    """A bug in one handler answers InternalFailure (500) for that request only."""
    status, _, body = json11(gw, "TestService.Crash")
    assert (status, body["__type"]) == (500, "InternalFailure")
    assert json11(gw, "TestService.Echo", b"{}")[0] == 200


def test_unknown_rest_path_is_an_aws_shaped_404(gw: GatewayThread) -> None:
    """restJson1 errors carry the code in `x-amzn-ErrorType` and the message in the body."""
    status, headers, body = post(gw, "/nowhere", b"", {})
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException" and "message" in body


def iot_data(gw: GatewayThread, key: str, secret: str, token: str | None) -> Any:
    return boto3.client(
        "iot-data",
        endpoint_url=gw.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def test_boto3_iot_data_publish_is_verified_with_issued_credentials(
    gw: GatewayThread, store: CredentialStore, published: list[dict[str, Any]]
) -> None:
    """iot-data Publish (`POST /topics/{topic}`, SigV4 service `iotdata`): the `/` in the topic travels as `%2F`."""
    cred = store.mint_for_identity("us-east-1:abc", "us-east-1:pool", Role("user"), True, 3600)
    client = iot_data(gw, cred.access_key_id, cred.secret_key, cred.session_token)
    client.publish(topic="chat/us-east-1:abc/prompt", qos=1, payload=b'{"v":1}')
    assert published[0]["topic"] == "chat/us-east-1:abc/prompt"
    assert (published[0]["qos"], published[0]["body"]) == ("1", b'{"v":1}')
    assert published[0]["caller"].identity_id == "us-east-1:abc"
    lambda_cred = store.mint_iam(Role("prompt-lambda-role"), "prompt")
    iot_data(gw, lambda_cred.access_key_id, lambda_cred.secret_key, None).publish(
        topic="a b/c+d", payload=b"x"
    )
    assert published[1]["topic"] == "a b/c+d" and published[1]["caller"].kind == "iam"


def test_boto3_sees_aws_error_codes_for_bad_signatures_and_denials(
    gw: GatewayThread, store: CredentialStore
) -> None:
    """Unknown keys: 403 UnrecognizedClientException; wrong secret: 403 InvalidSignatureException; denial: 403 ForbiddenException."""
    cred = store.mint_iam(Role("r"), "p")
    cases = [
        (iot_data(gw, "AKIAUNKNOWN", "x", None), "t", "UnrecognizedClientException"),
        (iot_data(gw, cred.access_key_id, "wrong", None), "t", "InvalidSignatureException"),
        (iot_data(gw, cred.access_key_id, cred.secret_key, "token"), "t", "UnrecognizedClientException"),
        (iot_data(gw, cred.access_key_id, cred.secret_key, None), "forbidden/x", "ForbiddenException"),
    ]
    for client, topic, code in cases:
        with pytest.raises(ClientError) as err:
            client.publish(topic=topic, payload=b"x")
        assert err.value.response["Error"]["Code"] == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
