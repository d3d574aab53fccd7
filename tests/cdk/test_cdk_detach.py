"""Detach on the way out: stack deletion must not fail on policies attached to Cognito identities.

IoT refuses DeletePolicy while targets are attached (DeleteConflictException,
https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html); a custom resource
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html) that references the policies is
deleted before them and detaches every target first.
"""

from __future__ import annotations

from tests.cdk.test_cdk_functions import _function, _role_statements


def test_the_detacher_references_both_policies_and_is_served_by_its_function(synth):
    """PolicyNames are `Ref`s to the IoT policies (CloudFormation deletes the resource before them); the
    service token is the detach function."""
    function_id, _ = _function(synth, "detach_policies")
    _, resource = synth.one("Custom::IotPolicyDetacher")
    user_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-user")
    dashboard_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-dashboard")
    properties = resource["Properties"]
    assert properties["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert sorted(p["Ref"] for p in properties["PolicyNames"]) == sorted([user_id, dashboard_id])


def test_the_detacher_outlives_nothing_it_needs(synth):
    """The resource depends on the function and its role policy, so on delete they still exist when
    CloudFormation sends the Delete request."""
    function_id, function = _function(synth, "detach_policies")
    _, resource = synth.one("Custom::IotPolicyDetacher")
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy_id,) = [
        logical_id
        for logical_id, policy in synth.resources("AWS::IAM::Policy").items()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    assert {function_id, policy_id} <= set(resource.get("DependsOn", []))


def test_the_detach_function_may_list_targets_of_our_policies_and_detach_nothing_else(synth):
    """ListTargetsForPolicy on the two policy ARNs only; DetachPolicy on `*` (authorised on the target, and a
    Cognito identity has no ARN: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html)."""
    statements = synth.text(_role_statements(synth, "detach_policies"))
    user_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-user")
    dashboard_id, _ = synth.one("AWS::IoT::Policy", PolicyName="iotstream-dashboard")
    listing = next(s for s in statements if s["Action"] == "iot:ListTargetsForPolicy")
    rendered = str(listing["Resource"])
    assert len(listing["Resource"]) == 2 and user_id in rendered and dashboard_id in rendered
    assert ":policy/" in rendered
    assert {"Action": "iot:DetachPolicy", "Effect": "Allow", "Resource": "*"} in statements
    assert {s["Action"] for s in statements} == {"iot:ListTargetsForPolicy", "iot:DetachPolicy"}
