"""Least-privilege permissions of each function's execution role."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cdk.sources import IotPermission

INFERENCE_PROFILE_PREFIXES = ("us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "ca.", "global.")


def bedrock_model_arns(stack: Stack, model_id: str) -> list[str]:
    """The resources `bedrock:InvokeModelWithResponseStream` (ConverseStream) needs for `model_id`.

    A plain model id is a foundation model in the stack's region. A cross-region inference profile id
    (`us.anthropic...`) needs the profile and the foundation model in every region the profile routes to.
    A full ARN is taken as is.
    """
    if model_id.startswith("arn:"):
        return [model_id]
    if model_id.startswith(INFERENCE_PROFILE_PREFIXES):
        base = model_id.split(".", 1)[1]
        return [
            stack.format_arn(service="bedrock", resource="inference-profile", resource_name=model_id),
            stack.format_arn(
                service="bedrock", region="*", account="", resource="foundation-model", resource_name=base
            ),
        ]
    return [
        stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=model_id)
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


def grant_stream_model(function: lambda_.Function, model_id: str) -> None:
    """ConverseStream is authorised as `bedrock:InvokeModelWithResponseStream`."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["bedrock:InvokeModelWithResponseStream"],
            resources=bedrock_model_arns(Stack.of(function), model_id),
        )
    )


def grant_state_table(table: dynamodb.Table, function: lambda_.Function, access: str) -> None:
    """The manifest's `stateTable` access (read, write or readWrite) on the state table, CDK's own grants."""
    grants = {
        "read": table.grant_read_data,
        "write": table.grant_write_data,
        "readWrite": table.grant_read_write_data,
    }
    grants[access](function)
