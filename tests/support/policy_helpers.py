"""Shared helpers for the policy tests (imported by name; not a conftest, to avoid module clashes)."""

from __future__ import annotations

from typing import Any

from iot_policies import Decision, PolicyDocument, RequestContext, evaluate, parse_policy, resource_arn

IDENTITY = "us-east-1:6f1c2d3e-0a1b-4c2d-8e3f-0123456789ab"
OTHER = "us-east-1:0b9e8d7c-1111-4222-8333-ba9876543210"
ACCOUNT = "123456789012"


def doc(*statements: dict[str, Any], name: str = "test", version: str = "2012-10-17") -> PolicyDocument:
    return parse_policy({"Version": version, "Statement": list(statements)}, name=name)


def decide(
    policies: PolicyDocument | list[PolicyDocument],
    action: str,
    name: str,
    context: RequestContext | None = None,
    account: str = ACCOUNT,
) -> Decision:
    chosen = policies if isinstance(policies, list) else [policies]
    arn = resource_arn(action, name, account=account)
    return evaluate(chosen, action, arn, context or RequestContext())
