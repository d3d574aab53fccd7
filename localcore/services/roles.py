"""The IAM roles rule actions act as, read from localcore's IAM (moto's, on the gateway).

A rule action names a role (`roleArn`); AWS IoT assumes it, which the role's trust policy must allow for
`iot.amazonaws.com` (https://docs.aws.amazon.com/iot/latest/developerguide/iot-create-role.html), with
`aws:SourceAccount` and `aws:SourceArn` (the rule's ARN) set for its conditions
(https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html). The
session may then do what the role's policies allow: its inline policies and the default version of each
attached managed policy. Create roles with boto3's `iam` client, as on AWS. Roles are read again after any
IAM change, so a policy edit applies to the next action.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from iot_policies.document import parse_policy
from iot_policies.errors import PolicyDocumentError
from iot_policies.evaluator import RequestContext, evaluate
from localcore.errors import LocalcoreError
from localcore.identity.credentials import Role
from localcore.services.permissions.place import Place

IOT_SERVICE = "iot.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"


class RoleUnusable(LocalcoreError):
    """IoT cannot act as the role: it does not exist, or its trust policy does not let IoT assume it."""


@dataclass(frozen=True)
class RoleRecord:
    """A role as IAM holds it: name, trust policy, and its permissions merged into one identity policy."""

    arn: str
    name: str
    trust: dict[str, Any]
    policy: dict[str, Any]

    def as_role(self, account: str) -> Role:
        return Role(self.name, self.policy, account)


def role_name(arn: str, place: Place) -> str:
    """`arn:aws:iam::<account>:role[/path]/NAME` -> NAME; RoleUnusable for anything else."""
    prefix = f"arn:aws:iam::{place.account}:role/"
    if not arn.startswith(prefix) or not arn[len(prefix) :]:
        raise RoleUnusable(f"{arn} is not the ARN of a role in account {place.account}")
    return arn.rsplit("/", 1)[1]


def read_role(iam: Any, arn: str, place: Place) -> RoleRecord:
    """Read the role through an admin `iam` client (blocking)."""
    name = role_name(arn, place)
    try:
        role = iam.get_role(RoleName=name)["Role"]
        documents = [
            _document(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
            for policy in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name)
        ]
        for attached in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
            version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            answer = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)
            documents.append(_document(answer["PolicyVersion"]["Document"]))
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            raise RoleUnusable(f"the role {arn} does not exist") from None
        raise
    return RoleRecord(arn, name, _document(role["AssumeRolePolicyDocument"]), merged_policy(documents))


def _pages(iam: Any, method: str, key: str, **params: str) -> Iterator[Any]:
    for page in iam.get_paginator(method).paginate(**params):
        yield from page[key]


def _document(value: Any) -> dict[str, Any]:
    """IAM answers policy documents URL-encoded; boto3 usually decodes them already."""
    if isinstance(value, dict):
        return value
    document = json.loads(unquote(str(value)))
    return document if isinstance(document, dict) else {}


def merged_policy(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """One identity policy with every statement of `documents` (IAM evaluates their union the same way:
    any Allow grants, any Deny wins); Sids made unique."""
    statements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for document in documents:
        body = document.get("Statement", [])
        for statement in body if isinstance(body, list) else [body]:
            statement = dict(statement)
            sid = statement.get("Sid")
            if isinstance(sid, str) and sid:
                while statement["Sid"] in seen:
                    statement["Sid"] += "x"
                seen.add(statement["Sid"])
            statements.append(statement)
    if not statements:
        return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    return {"Version": "2012-10-17", "Statement": statements}


def check_trust(record: RoleRecord, place: Place, rule_arn: str) -> None:
    """RoleUnusable unless the trust policy lets `iot.amazonaws.com` assume the role for this rule."""
    statements = [
        {key: value for key, value in statement.items() if key != "Principal"} | {"Resource": record.arn}
        for statement in _statements(record.trust)
        if _names_iot(statement.get("Principal"))
    ]
    refused = f"IoT cannot assume the role {record.arn}: its trust policy does not allow {IOT_SERVICE} {ASSUME_ROLE}"
    if not statements:
        raise RoleUnusable(refused)
    try:
        trust = parse_policy(
            {"Version": "2012-10-17", "Statement": statements}, f"trust policy of {record.name}"
        )
    except PolicyDocumentError as error:
        raise RoleUnusable(f"{refused} (unreadable trust policy: {error})") from None
    context = RequestContext(variables={"aws:SourceAccount": place.account, "aws:SourceArn": rule_arn})
    if not evaluate([trust], ASSUME_ROLE, record.arn, context).allowed:
        raise RoleUnusable(refused)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document.get("Statement", [])
    return [s for s in (body if isinstance(body, list) else [body]) if isinstance(s, dict)]


def _names_iot(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    services = principal.get("Service", [])
    services = [services] if isinstance(services, str) else services
    return IOT_SERVICE in services or principal.get("AWS") == "*"
