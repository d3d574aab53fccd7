"""The `http` rule action, posting to a real HTTP server on 127.0.0.1.

AWS page: https://docs.aws.amazon.com/iot/latest/developerguide/https-rule-action.html (parameters, content
type, retry logic); destinations: https://docs.aws.amazon.com/iot/latest/developerguide/rule-destination.html
(localcore treats any URL on this machine as a confirmed destination, and posts nowhere else).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from tests.support.rule_actions import Rules, unique


@dataclass
class Endpoint:
    """A local web service: records each POST and answers the next status in `statuses` (then 200)."""

    url: str
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    recorded = Endpoint("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            recorded.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(recorded.statuses.pop(0) if recorded.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield recorded
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_posts_the_output_with_rendered_url_and_headers(rules: Rules, endpoint: Endpoint) -> None:
    """https-rule-action.html: POST to `url` (templates) with `headers` (values are templates); the content
    type is application/json for a JSON payload, application/octet-stream otherwise, unless a header sets it."""
    topic = unique("ingest")
    action = {
        "url": endpoint.url + "/devices/${topic(2)}",
        "confirmationUrl": endpoint.url,
        "headers": [{"key": "x-device", "value": "${clientid()}"}],
    }
    typed = {"url": endpoint.url + "/typed", "headers": [{"key": "Content-Type", "value": "text/csv"}]}
    rules.rule(f"SELECT * FROM '{topic}/+'", [{"http": action}])
    rules.rule(f"SELECT * FROM '{topic}/+'", [{"http": typed}])
    rules.publish(f"{topic}/d3", {"t": 1}, client_id="dev-3")
    rules.publish(f"{topic}/d4", b"\x00\x01", client_id="dev-4")
    by_path: dict[str, list[tuple[dict[str, str], bytes]]] = {}
    for path, headers, body in endpoint.posts:
        by_path.setdefault(path, []).append((headers, body))
    ((json_headers, json_body),) = by_path["/devices/d3"]
    assert (json_headers["x-device"], json_headers["content-type"], json.loads(json_body)) == (
        "dev-3",
        "application/json",
        {"t": 1},
    )
    ((binary_headers, binary_body),) = by_path["/devices/d4"]
    assert (binary_headers["content-type"], binary_body) == ("application/octet-stream", b"\x00\x01")
    assert [headers["content-type"] for headers, _ in by_path["/typed"]] == ["text/csv", "text/csv"]


def test_http_retries_5xx_twice_then_runs_the_error_action(rules: Rules, endpoint: Endpoint) -> None:
    """HTTP action retry logic: at most three tries, retried only on 429 and 5xx; after the third failure the
    errorAction names HttpAction and the URL."""
    endpoint.statuses = [500, 503, 500]
    sink, errors = rules.error_sink()
    topic = unique("ingest")
    rules.rule(f"SELECT * FROM '{topic}'", [{"http": {"url": endpoint.url + "/down"}}], sink)
    rules.publish(topic, {"t": 1})
    assert len(endpoint.posts) == 3
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("HttpAction", endpoint.url + "/down")
    assert failure["errorMessage"] == (
        "HttpAction failed to make a request to the specified endpoint. Received HTTP status code 500 after 2 retries"
    )


def test_http_retries_a_429_and_succeeds_but_never_retries_a_404(rules: Rules, endpoint: Endpoint) -> None:
    """Retry logic: a 429 is tried again (and the second try's 200 succeeds); any other 4xx is not."""
    sink, errors = rules.error_sink()
    busy, missing = unique("busy"), unique("missing")
    rules.rule(f"SELECT * FROM '{busy}'", [{"http": {"url": endpoint.url + "/busy"}}], sink)
    rules.rule(f"SELECT * FROM '{missing}'", [{"http": {"url": endpoint.url + "/missing"}}], sink)
    endpoint.statuses = [429]
    rules.publish(busy, {"t": 1})
    endpoint.statuses = [404]
    rules.publish(missing, {"t": 2})
    assert [path for path, _, _ in endpoint.posts] == ["/busy", "/busy", "/missing"]
    (error,) = rules.errors(errors)
    assert error["failures"][0]["errorMessage"].endswith("Received HTTP status code 404 after 0 retries")


def test_http_posts_only_to_this_machine(rules: Rules) -> None:
    """localcore skips AWS's destination confirmation (rule-destination.html) and instead posts only to
    127.0.0.1, ::1 or localhost: another host fails the action without any request leaving the machine."""
    sink, errors = rules.error_sink()
    topic = unique("ingest")
    rules.rule(f"SELECT * FROM '{topic}'", [{"http": {"url": "https://example.com/ingest"}}], sink)
    rules.publish(topic, {"t": 1})
    (error,) = rules.errors(errors)
    assert "only to this machine" in error["failures"][0]["errorMessage"]


def test_http_sigv4_auth_signs_as_the_role(rules: Rules, endpoint: Endpoint) -> None:
    """API_SigV4Authorization: `auth.sigv4` signs the POST for `serviceName` in `signingRegion` with the
    credentials of `roleArn` (a session of that role)."""
    role = rules.role()
    topic = unique("signed")
    auth = {"sigv4": {"signingRegion": "eu-west-1", "serviceName": "execute-api", "roleArn": role}}
    rules.rule(f"SELECT * FROM '{topic}'", [{"http": {"url": endpoint.url + "/signed", "auth": auth}}])
    rules.publish(topic, {"t": 1})
    ((_, headers, _),) = endpoint.posts
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=")
    key_id = authorization.split("Credential=")[1].split("/")[0]
    assert "/eu-west-1/execute-api/aws4_request" in authorization and "x-amz-date" in headers
    issued = rules.stack.core.identity.store.resolve(key_id)
    assert issued is not None and issued.caller.role.arn == role


@pytest.mark.parametrize(
    ("action", "place"),
    [
        ({"url": "http://127.0.0.1:9/${topic()}"}, "http.confirmationUrl"),
        ({"url": "http://127.0.0.1:9/a", "confirmationUrl": "http://127.0.0.1:9/b"}, "http.url"),
        ({"url": "http://127.0.0.1:9/a", "enableBatching": True}, "http.enableBatching"),
    ],
    ids=["template-without-confirmation-url", "confirmation-url-not-a-prefix", "batching"],
)
def test_http_actions_aws_would_refuse_are_refused_at_creation(
    rules: Rules, action: dict[str, object], place: str
) -> None:
    """https-rule-action.html: a templated `url` needs a `confirmationUrl`, and `url` must begin with it;
    batching is not emulated: CreateTopicRule answers InvalidRequestException naming the parameter."""
    with pytest.raises(ClientError) as refused:
        rules.rule("SELECT * FROM 'a'", [{"http": action}])
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert place in refused.value.response["Error"]["Message"]
