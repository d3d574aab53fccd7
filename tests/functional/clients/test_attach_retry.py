"""The attach call retries when it is throttled, signed anew each time, and gives up with the status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clients.config import ClientConfig
from clients.errors import AttachPolicyError
from clients.presign import AwsCredentials
from clients.session import ATTACH_ATTEMPTS, call_attach_policy

CREDENTIALS = AwsCredentials("ASIAEXAMPLE", "secret", "token")


class ScriptedUrl(ThreadingHTTPServer):
    """A function URL on 127.0.0.1 that answers the statuses of `script` in order, recording each request."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.requests: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedUrl

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
        status = self.server.script.pop(0)
        reply = {"identityId": "us-east-1:x", "policyName": "p", "attached": True} if status == 200 else {}
        if status == 429:
            reply = {"Message": "Rate Exceeded."}  # Lambda's throttling answer for function URLs
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url(request) -> Iterator[ScriptedUrl]:
    server = ScriptedUrl(list(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _config(server: ScriptedUrl) -> ClientConfig:
    host, port = server.server_address[:2]
    return ClientConfig("us-east-1", "pool", "client", "idpool", "ws://127.0.0.1:1", f"http://{host}:{port}/")


@pytest.mark.parametrize("url", [[429, 503, 200]], indirect=True)
def test_throttled_attach_calls_are_retried_and_signed_again(url):
    """A function over its concurrency is throttled with HTTP 429, TooManyRequestsException
    (https://repost.aws/knowledge-center/lambda-troubleshoot-throttling; the exact body a function URL sends is
    undocumented, docs/lambda-runtime.md); SDKs retry
    throttling with back-off (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
    Every attempt carries the ID token and a SigV4 signature of its own."""
    reply = call_attach_policy(_config(url), CREDENTIALS, "id-token", backoff_s=0.001)
    assert reply["attached"] is True
    assert len(url.requests) == 3
    assert all(json.loads(body) == {"idToken": "id-token"} for _, body in url.requests)
    assert all(headers["authorization"].startswith("AWS4-HMAC-SHA256 ") for headers, _ in url.requests)


@pytest.mark.parametrize("url", [[429] * ATTACH_ATTEMPTS], indirect=True)
def test_attach_gives_up_after_its_attempts_with_the_status(url):
    """Still throttled after every attempt: one AttachPolicyError with the last status."""
    with pytest.raises(AttachPolicyError) as raised:
        call_attach_policy(_config(url), CREDENTIALS, "id-token", backoff_s=0.001)
    assert raised.value.status == 429 and len(url.requests) == ATTACH_ATTEMPTS


@pytest.mark.parametrize("url", [[403]], indirect=True)
def test_a_refusal_is_not_retried(url):
    """403 (token refused) is final: retrying cannot change it."""
    with pytest.raises(AttachPolicyError) as raised:
        call_attach_policy(_config(url), CREDENTIALS, "id-token", backoff_s=0.001)
    assert raised.value.status == 403 and len(url.requests) == 1
