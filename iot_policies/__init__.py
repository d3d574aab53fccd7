"""IoT policy documents (JSON with ${...} variables) and their evaluator, with AWS IoT Core semantics."""

from __future__ import annotations

from iot_policies.arns import resource_arn
from iot_policies.document import PolicyDocument, Statement, parse_policy
from iot_policies.errors import PolicyDocumentError, PolicyError
from iot_policies.evaluator import Decision, RequestContext, evaluate, evaluate_authenticated
from iot_policies.library import SHIPPED_POLICIES, load_shipped, policy_dir

__all__ = [
    "SHIPPED_POLICIES",
    "Decision",
    "PolicyDocument",
    "PolicyDocumentError",
    "PolicyError",
    "RequestContext",
    "Statement",
    "evaluate",
    "evaluate_authenticated",
    "load_shipped",
    "parse_policy",
    "policy_dir",
    "resource_arn",
]
