"""boto3's `iot` client manages policies and attachments on localcore exactly as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iot_policies.library import shipped_path
from tests.support.control_plane_stack import ADMIN_KEYS, IDENTITY, iot_client


def test_policy_lifecycle_through_boto3(control_plane: dict[str, Any]) -> None:
    """CreatePolicy, GetPolicy, ListPolicies, AttachPolicy, ListAttachedPolicies, ListTargetsForPolicy,
    DetachPolicy, DeletePolicy behave as the IoT API reference describes."""
    iot = iot_client(control_plane["url"])
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}],
        }
    )
    created = iot.create_policy(policyName="lifecycle", policyDocument=document)
    assert created["policyArn"] == "arn:aws:iot:us-east-1:000000000000:policy/lifecycle"
    assert created["policyVersionId"] == "1"
    assert iot.get_policy(policyName="lifecycle")["policyDocument"] == document
    assert "lifecycle" in [p["policyName"] for p in iot.list_policies()["policies"]]
    iot.attach_policy(policyName="lifecycle", target=IDENTITY)
    iot.attach_policy(policyName="lifecycle", target=IDENTITY)  # idempotent
    attached = iot.list_attached_policies(target=IDENTITY)["policies"]
    assert [p["policyName"] for p in attached] == ["lifecycle"]
    assert iot.list_targets_for_policy(policyName="lifecycle")["targets"] == [IDENTITY]
    with pytest.raises(ClientError) as conflict:
        iot.delete_policy(policyName="lifecycle")
    assert conflict.value.response["Error"]["Code"] == "DeleteConflictException"
    iot.detach_policy(policyName="lifecycle", target=IDENTITY)
    iot.delete_policy(policyName="lifecycle")
    with pytest.raises(ClientError) as missing:
        iot.get_policy(policyName="lifecycle")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_malformed_and_duplicate_policies_get_aws_errors(control_plane: dict[str, Any]) -> None:
    """MalformedPolicyException for a bad document (also one nested 1000 arrays deep), and
    ResourceAlreadyExistsException for a taken name (API_CreatePolicy.html)."""
    iot = iot_client(control_plane["url"])
    with pytest.raises(ClientError) as malformed:
        iot.create_policy(policyName="bad", policyDocument='{"Statement": "nope"}')
    assert malformed.value.response["Error"]["Code"] == "MalformedPolicyException"
    deep = '{"Version": "2012-10-17", "Statement": ' + "[" * 1000 + "]" * 1000 + "}"
    with pytest.raises(ClientError) as nested:
        iot.create_policy(policyName="deep", policyDocument=deep)
    assert nested.value.response["Error"]["Code"] == "MalformedPolicyException"
    with pytest.raises(ClientError) as duplicate:
        iot.create_policy(policyName="iotstream-user", policyDocument=shipped_path("user").read_text())
    assert duplicate.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"


def test_policy_versions_switch_the_default(control_plane: dict[str, Any]) -> None:
    """CreatePolicyVersion with setAsDefault, ListPolicyVersions, SetDefaultPolicyVersion."""
    iot = iot_client(control_plane["url"])
    v1 = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iot:*", "Resource": "*"}]}
    )
    v2 = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    )
    iot.create_policy(policyName="versioned", policyDocument=v1)
    made = iot.create_policy_version(policyName="versioned", policyDocument=v2, setAsDefault=True)
    assert made["policyVersionId"] == "2" and made["isDefaultVersion"] is True
    versions = iot.list_policy_versions(policyName="versioned")["policyVersions"]
    assert [(v["versionId"], v["isDefaultVersion"]) for v in versions] == [("2", True), ("1", False)]
    iot.set_default_policy_version(policyName="versioned", policyVersionId="1")
    assert iot.get_policy(policyName="versioned")["defaultVersionId"] == "1"


def test_callers_are_limited_by_their_iam_role(control_plane: dict[str, Any]) -> None:
    """IAM decides control-plane calls: a role allowed only iot:AttachPolicy cannot create policies."""
    attacher = control_plane["attacher"]
    iot = iot_client(control_plane["url"], (attacher.access_key_id, attacher.secret_key))
    iot.attach_policy(policyName="iotstream-user", target=IDENTITY)
    with pytest.raises(ClientError) as denied:
        iot.create_policy(policyName="sneaky", policyDocument=shipped_path("user").read_text())
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsigned_or_forged_requests_are_refused(control_plane: dict[str, Any]) -> None:
    """Every IoT API call must carry a valid SigV4 signature from known credentials."""
    iot = iot_client(control_plane["url"], ("AKIAUNKNOWNKEY00000", "whatever"))
    with pytest.raises(ClientError) as unknown:
        iot.list_policies()
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    forged = iot_client(control_plane["url"], (ADMIN_KEYS[0], "wrong-secret"))
    with pytest.raises(ClientError) as bad:
        forged.list_policies()
    assert bad.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_describe_endpoint(control_plane: dict[str, Any]) -> None:
    """DescribeEndpoint answers the data endpoint for iot:Data-ATS and refuses unknown types."""
    iot = iot_client(control_plane["url"])
    assert iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == "localhost"
    with pytest.raises(ClientError) as bad:
        iot.describe_endpoint(endpointType="iot:Nope")
    assert bad.value.response["Error"]["Code"] == "InvalidRequestException"
