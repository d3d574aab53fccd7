"""Acknowledging cdk-nag findings (AwsSolutions pack) next to the resource that causes them.

cdk-nag 3 reports through CDK's policy validation; `Validations.of(construct).acknowledge` silences one
finding for the construct and its children. Each call here carries the reason in the calling code, and
wildcard findings are acknowledged one resource at a time (`AwsSolutions-IAM5[Resource::<arn>]`), so a new
wildcard added later is reported again. `tests/cdk/test_cdk_quality.py` runs the pack on the whole stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

_POLICY_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Silence `AwsSolutions-<finding>` (e.g. `L1`, `IAM5[Resource::*]`) on `construct`, for `reason`."""
    Validations.of(construct).acknowledge(
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-{finding}", reason=reason)
    )


def acknowledge_wildcards(construct: IConstruct, resources: Iterable[str], reason: str) -> None:
    """Acknowledge IAM5 for each resource of `resources` that holds a `*`, named as cdk-nag names it."""
    stack = Stack.of(construct)
    for resource in resources:
        rendered = _as_nag_renders(stack.resolve(resource))
        if "*" in rendered:
            acknowledge(construct, f"IAM5[Resource::{rendered}]", reason)


def _as_nag_renders(value: Any) -> str:
    """A resolved ARN as cdk-nag prints it: `Fn::Join` joined, `Ref X` as `<X>`, `Fn::GetAtt` as `<Id.Attr>`."""
    if isinstance(value, str):
        return _POLICY_VARIABLE.sub(r"<\1>", value)  # cdk-nag prints `${var}` as `<var>`
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_as_nag_renders(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return str(value)
