"""localcore's function-URL event against AWS's documented request payload, field for field.

Sample: tests/fixtures/aws_events/lambda-url-iam-request.json, from "Request payload format" on
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html. The request below is the sample's own
request (path, query, cookies, headers, body), signed with Cognito identity-pool credentials: every field
must be present, absent or null as in the sample (`cognitoIdentity` null although the caller *is* a Cognito
identity); values localcore cannot know (ids, times, the caller's keys) may differ.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from clients.presign import AwsCredentials, sign_http_request
from localcore.functions.urls import FunctionUrls, function_url
from localcore.http.gateway import Gateway
from localcore.http.testing import GatewayThread
from localcore.identity.credentials import CredentialStore, Role
from localcore.lambda_runtime import FunctionConfig, LambdaRuntime
from localcore.sigv4 import SigV4Verifier
from tests.support.aws_events import assert_same_shape, sample

CODE_ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "lambdas"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def url_stack() -> Iterator[tuple[GatewayThread, CredentialStore]]:
    """A gateway serving the function URL of an echo function (returns the event it got)."""
    store = CredentialStore()
    echo = FunctionConfig(name="echo", handler="handlers.basic.echo", code_root=CODE_ROOT)
    runtime = LambdaRuntime([echo], {}, region=REGION)
    gateway = Gateway()
    FunctionUrls(lambda: runtime, SigV4Verifier(store), ("echo",)).mount(gateway)
    with GatewayThread(gateway) as thread:
        thread.run(runtime.start())
        try:
            yield thread, store
        finally:
            thread.run(runtime.close())


def send_documented_request(thread: GatewayThread, credentials: AwsCredentials) -> dict[str, Any]:
    """The sample's request: POST /my/path?<its query>, its cookies, header1 and header2 (twice), its body."""
    documented = sample("lambda-url-iam-request.json")
    url = (
        function_url(thread.url, "echo").rstrip("/")
        + documented["rawPath"]
        + "?"
        + documented["rawQueryString"]
    )
    body = documented["body"].encode()
    headers = sign_http_request(
        "POST", url, credentials, REGION, "lambda", body=body, headers={"header1": "value1"}
    )
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("POST", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
        for name, value in [*headers.items(), ("header2", "value1"), ("header2", "value2")]:
            connection.putheader(name, value)
        connection.putheader("Cookie", "cookie1; cookie2")
        connection.putheader("User-Agent", "agent")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        event: dict[str, Any] = json.loads(response.read())["event"]
        return event
    finally:
        connection.close()


def test_the_event_of_a_cognito_caller_has_the_documented_shape(
    url_stack: tuple[GatewayThread, CredentialStore],
) -> None:
    """Shape equal to the sample (headers compared as a map: AWS adds headers of its own); `cognitoIdentity`,
    `authentication`, `pathParameters`, `stageVariables` and `principalOrgId` are null."""
    thread, store = url_stack
    issued = store.mint_for_identity(
        "us-east-1:6f1c0e1e-1111-4222-8333-944445555666", "us-east-1:pool", Role("auth-role"), True, 3600
    )
    credentials = AwsCredentials(issued.access_key_id, issued.secret_key, issued.session_token)
    event = send_documented_request(thread, credentials)
    documented = sample("lambda-url-iam-request.json")
    assert_same_shape(event, documented, open_maps={"headers"})
    for key in (
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "queryStringParameters",
        "body",
    ):
        assert event[key] == documented[key], key
    assert event["headers"].items() >= documented["headers"].items()
    context = event["requestContext"]
    assert context["http"] | {"sourceIp": "-"} == documented["requestContext"]["http"] | {"sourceIp": "-"}
    iam = context["authorizer"]["iam"]
    assert iam["cognitoIdentity"] is None and iam["principalOrgId"] is None
    assert iam["accessKey"] == issued.access_key_id
    assert iam["userArn"] == "arn:aws:sts::000000000000:assumed-role/auth-role/CognitoIdentityCredentials"


def test_a_request_without_query_cookies_or_body_leaves_those_fields_out(
    url_stack: tuple[GatewayThread, CredentialStore],
) -> None:
    """Real function-URL events have no `cookies`, `queryStringParameters` or `body` when the request has none
    (Powertools' captured `lambdaFunctionUrlEvent.json`); the rest keeps the documented shape."""
    thread, store = url_stack
    issued = store.mint_iam(Role("admin-role"), "admin")
    url = function_url(thread.url, "echo")
    headers = sign_http_request(
        "GET", url, AwsCredentials(issued.access_key_id, issued.secret_key), REGION, "lambda"
    )
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", parts.path, headers=headers)
        event = json.loads(connection.getresponse().read())["event"]
    finally:
        connection.close()
    documented = sample("lambda-url-iam-request.json")
    for absent in ("cookies", "queryStringParameters", "body"):
        assert absent not in event
        del documented[absent]
    documented["requestContext"]["http"]["method"] = "GET"
    assert_same_shape(event, documented, open_maps={"headers"})
    assert event["rawQueryString"] == "" and event["isBase64Encoded"] is False
