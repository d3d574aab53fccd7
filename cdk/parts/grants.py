"""Least-privilege permissions of each function's execution role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cdk.models import ModelRef
from cdk.parts.nag import acknowledge_wildcards
from cdk.sources import IotPermission

CONVERSE_STREAM_ACTION = "bedrock:InvokeModelWithResponseStream"
"""What ConverseStream is authorised as ("This operation requires permission for the
bedrock:InvokeModelWithResponseStream action", API_runtime_ConverseStream)."""


def _statement(resources: list[str], conditions: dict[str, Any] | None = None) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=[CONVERSE_STREAM_ACTION], resources=resources, conditions=conditions)


def bedrock_model_statements(stack: Stack, model: ModelRef) -> list[iam.PolicyStatement]:
    """The statements that let the prompt function stream from `model`, as AWS documents them.

    - foundation model: that model in the stack's Region;
    - geographic inference profile (`eu.`...): the profile in the stack's Region, and the foundation model in
      every Region the profile may route to, only through that profile (`bedrock:InferenceProfileArn`)
      (https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html,
      "IAM policy requirements for Geographic cross-Region inference");
    - global inference profile (`global.`): the three-part policy of
      https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html ("IAM policy
      requirements for global cross-Region inference"): the profile, the Regional foundation model and the
      Region-less foundation model `arn:aws:bedrock:::foundation-model/...` (`aws:RequestedRegion` is
      `unspecified` for the global routing);
    - a full ARN (e.g. an application inference profile): that ARN as is.
    """
    if model.kind == "arn":
        return [_statement([model.model_id])]

    def foundation_model(region: str) -> str:
        return stack.format_arn(
            service="bedrock",
            region=region,
            account="",
            resource="foundation-model",
            resource_name=model.foundation_model,
        )

    if model.kind == "foundation-model":
        return [_statement([foundation_model(stack.region)])]
    profile = stack.format_arn(service="bedrock", resource="inference-profile", resource_name=model.model_id)
    if model.kind == "geographic-profile":
        return [
            _statement([profile]),
            _statement([foundation_model("*")], {"StringEquals": {"bedrock:InferenceProfileArn": profile}}),
        ]
    in_region = {"aws:RequestedRegion": stack.region}
    through_profile = {"bedrock:InferenceProfileArn": profile}
    return [
        _statement([profile], {"StringEquals": in_region}),
        _statement([foundation_model(stack.region)], {"StringEquals": {**in_region, **through_profile}}),
        _statement(
            [foundation_model("")],
            {"StringEquals": {"aws:RequestedRegion": "unspecified", **through_profile}},
        ),
    ]


def grant_iot_permissions(function: lambda_.Function, permissions: Sequence[IotPermission]) -> None:
    """The IoT permissions the functions manifest gives this function (e.g. prompt: publish to responses)."""
    stack = Stack.of(function)
    for permission in permissions:
        resources = [
            resource
            if resource == "*"
            else stack.format_arn(
                service="iot",
                resource=resource.split("/", 1)[0],
                resource_name=resource.split("/", 1)[1],
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            for resource in permission.resources
        ]
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(permission.actions), resources=resources)
        )
        acknowledge_wildcards(
            function,
            resources,
            "IoT permissions of lambdas/iotstream_lambdas/functions.json: a topic pattern where the function serves every "
            "user's topics (it writes only the topic the rule's topic(2) names), `*` where IAM has no resource "
            "type for the target (iot:AttachPolicy to a Cognito identity, iot:ListAttachedPolicies).",
        )


def grant_stream_model(function: lambda_.Function, model: ModelRef) -> None:
    """Let `function` call ConverseStream on `model` (see `bedrock_model_statements`)."""
    for statement in bedrock_model_statements(Stack.of(function), model):
        function.add_to_role_policy(statement)
        acknowledge_wildcards(
            function,
            statement.resources,
            "A geographic inference profile routes to Regions AWS may add to it; the statement only allows "
            "the model through that profile (bedrock:InferenceProfileArn).",
        )


def grant_state_table(table: dynamodb.Table, function: lambda_.Function, access: str) -> None:
    """The manifest's `stateTable` access (read, write or readWrite) on the state table, CDK's own grants."""
    grants = {
        "read": table.grant_read_data,
        "write": table.grant_write_data,
        "readWrite": table.grant_read_write_data,
    }
    grants[access](function)
