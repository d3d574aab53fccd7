"""IoT policies from `iot_policies/`, attached to Cognito identities by the attach-policy function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_iot as iot
from constructs import Construct

from cdk.parts.naming import pascal
from cdk.parts.partition import partition_agnostic


class IotPolicies(Construct):
    """One `AWS::IoT::Policy` per document, the document passed verbatim (its `${...}` variables intact) but
    for the partition of its ARNs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        documents: Mapping[str, dict[str, Any]],
        names: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.policies = {
            kind: iot.CfnPolicy(
                self, pascal(kind), policy_name=names[kind], policy_document=partition_agnostic(document)
            )
            for kind, document in documents.items()
        }

    def name(self, kind: str) -> str:
        """The policy name (`Ref` of the resource), so users of it depend on its creation."""
        return self.policies[kind].ref
