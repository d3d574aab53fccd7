"""Partition-agnostic ARNs in the policy documents of `iot_policies/`, which are written for the `aws`
partition (they are also localcore's documents, and IoT policy variables forbid `Fn::Sub`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws

AWS_ARN_PREFIX = "arn:aws:"


def partition_agnostic(value: Any) -> Any:
    """`value` with each string starting `arn:aws:` given the stack's partition (`Aws.PARTITION`) instead.

    The token renders as `Fn::Join` with `Ref AWS::Partition`; `${...}` policy variables in the rest of the
    string stay literal text (no `Fn::Sub`).
    """
    if isinstance(value, str) and value.startswith(AWS_ARN_PREFIX):
        return f"arn:{Aws.PARTITION}:{value.removeprefix(AWS_ARN_PREFIX)}"
    if isinstance(value, list):
        return [partition_agnostic(item) for item in value]
    if isinstance(value, dict):
        return {key: partition_agnostic(item) for key, item in value.items()}
    return value
