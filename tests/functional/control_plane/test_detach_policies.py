"""The stack's policy detacher (lambdas/iotstream_lambdas/detach_policies) against localcore's IoT API: CloudFormation's
documented Delete request (tests/fixtures/aws_events/cloudformation-custom-resource-delete.json, from
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html) with our `PolicyNames`; every
target is found with ListTargetsForPolicy (paged, API_ListTargetsForPolicy.html), detached with DetachPolicy,
the policy can then be deleted, and CloudFormation gets its answer on the ResponseURL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iot_policies.library import shipped_path
from iotstream_lambdas.detach_policies.handler import respond
from iotstream_lambdas.detach_policies.service import SAFETY_MARGIN_MS
from tests.support.aws_events import sample
from tests.support.control_plane_stack import iot_client

TARGETS = [f"us-east-1:00000000-0000-4000-8000-{n:012d}" for n in range(7)]


class ResponseUrl:
    """CloudFormation's side: a local HTTP server that records the PUT to the presigned ResponseURL."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                received.bodies.append(json.loads(self.rfile.read(length)))
                received.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/presigned?X-Amz-Signature=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Context:
    """The part of the Lambda context the handler uses."""

    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def cloudformation() -> Iterator[ResponseUrl]:
    server = ResponseUrl()
    yield server
    server.close()


def delete_request(response_url: str, policies: list[str]) -> dict[str, Any]:
    event = sample("cloudformation-custom-resource-delete.json")
    event["ResponseURL"] = response_url
    event["ResourceType"] = "Custom::IotPolicyDetacher"
    event["ResourceProperties"] = {"ServiceToken": "arn:aws:lambda:...:detach", "PolicyNames": policies}
    return event


def test_delete_detaches_every_target_then_the_policy_can_go(
    control_plane: dict[str, Any], cloudformation: ResponseUrl
) -> None:
    """Seven identities, pages of at most 250 (boto3's paginator over `marker`/`nextMarker`): all detached,
    DeletePolicy succeeds, and the answer copies RequestId, StackId, LogicalResourceId, PhysicalResourceId."""
    iot = iot_client(control_plane["url"])
    iot.create_policy(policyName="doomed", policyDocument=shipped_path("user").read_text())
    for target in TARGETS:
        iot.attach_policy(policyName="doomed", target=target)
    pages = list(
        iot.get_paginator("list_targets_for_policy").paginate(
            policyName="doomed", PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(page["targets"]) for page in pages] == [3, 3, 1]
    event = delete_request(cloudformation.url, ["doomed", "already-gone"])
    answer = respond(event, Context(), iot=iot)  # type: ignore[arg-type]
    assert iot.list_targets_for_policy(policyName="doomed")["targets"] == []
    iot.delete_policy(policyName="doomed")
    [body] = cloudformation.bodies
    assert (
        body
        == answer
        == {
            "Status": "SUCCESS",
            "RequestId": "unique-request-id",
            "StackId": "arn:aws:cloudformation:us-west-2:123456789012:stack/mystack/id",
            "LogicalResourceId": "resource-logical-id",
            "PhysicalResourceId": "provider-defined-physical-id",
        }
    )
    assert cloudformation.headers[0].get("Content-Type") == ""


def test_without_the_detacher_delete_policy_is_refused(control_plane: dict[str, Any]) -> None:
    """Why the detacher exists: DeletePolicy on an attached policy is DeleteConflictException."""
    iot = iot_client(control_plane["url"])
    iot.create_policy(policyName="stuck", policyDocument=shipped_path("user").read_text())
    iot.attach_policy(policyName="stuck", target=TARGETS[0])
    with pytest.raises(ClientError) as error:
        iot.delete_policy(policyName="stuck")
    assert error.value.response["Error"]["Code"] == "DeleteConflictException"
    iot.detach_policy(policyName="stuck", target=TARGETS[0])


def test_create_and_update_detach_nothing_still_in_use(
    control_plane: dict[str, Any], cloudformation: ResponseUrl
) -> None:
    """Create is a no-op; Update detaches only policies the new properties dropped (they are being replaced)."""
    iot = iot_client(control_plane["url"])
    for name in ("kept", "dropped"):
        iot.create_policy(policyName=name, policyDocument=shipped_path("user").read_text())
        iot.attach_policy(policyName=name, target=TARGETS[1])
    create = delete_request(cloudformation.url, ["kept", "dropped"]) | {"RequestType": "Create"}
    update = delete_request(cloudformation.url, ["kept"]) | {
        "RequestType": "Update",
        "OldResourceProperties": {"PolicyNames": ["kept", "dropped"]},
    }
    for event in (create, update):
        assert respond(event, Context(), iot=iot)["Status"] == "SUCCESS"  # type: ignore[arg-type]
    assert iot.list_targets_for_policy(policyName="kept")["targets"] == [TARGETS[1]]
    assert iot.list_targets_for_policy(policyName="dropped")["targets"] == []


def test_failures_and_lack_of_time_are_answered_as_failed(
    control_plane: dict[str, Any], cloudformation: ResponseUrl
) -> None:
    """CloudFormation waits an hour for an answer that never comes: a refused call (an attach-only key) and a
    run about to time out both answer FAILED with a reason."""
    attacher = control_plane["attacher"]
    refused = iot_client(control_plane["url"], (attacher.access_key_id, attacher.secret_key))
    iot = iot_client(control_plane["url"])
    iot.create_policy(policyName="slow", policyDocument=shipped_path("user").read_text())
    iot.attach_policy(policyName="slow", target=TARGETS[2])
    event = delete_request(cloudformation.url, ["slow"])
    assert respond(event, Context(), iot=refused)["Status"] == "FAILED"  # type: ignore[arg-type]
    assert respond(event, Context(SAFETY_MARGIN_MS - 1), iot=iot)["Status"] == "FAILED"  # type: ignore[arg-type]
    reasons = [body["Reason"] for body in cloudformation.bodies]
    assert "AccessDeniedException" in reasons[0] and "OutOfTime" in reasons[1]
    assert iot.list_targets_for_policy(policyName="slow")["targets"] == [TARGETS[2]]
