"""Detach every target (Cognito identity) of the stack's IoT policies, so CloudFormation can delete them.

AWS refuses DeletePolicy while a policy is attached (DeleteConflictException), and the attach-policy
function attaches policies to identities CloudFormation knows nothing about. This runs as a custom resource
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html) that depends on the policies, so
CloudFormation deletes it, and runs this, before it deletes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_iot import IoTClient

PHYSICAL_ID = "iotstream-policy-detacher"  # constant: an update must never look like a replacement
SAFETY_MARGIN_MS = (
    15_000  # stop detaching this long before the Lambda timeout, to still answer CloudFormation
)


class OutOfTime(Exception):
    """The function would time out before answering; CloudFormation gets FAILED and the user retries."""


@dataclass
class Detached:
    """What a run detached: (policy, target) pairs, and policies that no longer exist."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    missing_policies: list[str] = field(default_factory=list)


def detach_all(iot: IoTClient, policies: Iterable[str], remaining_ms: Callable[[], int]) -> Detached:
    """ListTargetsForPolicy (every page) then DetachPolicy for each target of each policy."""
    done = Detached()
    for policy in policies:
        try:
            targets = [
                target
                for page in iot.get_paginator("list_targets_for_policy").paginate(policyName=policy)
                for target in page.get("targets", [])
            ]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                done.missing_policies.append(policy)
                continue
            raise
        for target in targets:
            if remaining_ms() < SAFETY_MARGIN_MS:
                raise OutOfTime(f"detached {len(done.pairs)} targets; delete the stack again to go on")
            iot.detach_policy(policyName=policy, target=target)
            done.pairs.append((policy, target))
    return done


def policies_to_detach(event: Mapping[str, Any]) -> list[str]:
    """Delete: every policy of the resource. Update: the policies the new properties no longer list (they are
    about to be replaced or deleted). Create: none."""
    new = _names(event.get("ResourceProperties"))
    if event.get("RequestType") == "Delete":
        return new
    if event.get("RequestType") == "Update":
        return [name for name in _names(event.get("OldResourceProperties")) if name not in new]
    return []


def _names(properties: Any) -> list[str]:
    names = properties.get("PolicyNames") if isinstance(properties, Mapping) else None
    return [str(name) for name in names] if isinstance(names, list) else []
