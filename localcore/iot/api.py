"""The IoT control plane's REST API (restJson1, as boto3's `iot` client speaks it) on the gateway: requests
parsed, the backend called, answers serialised; state and its rules live in the backend (`backend.py`).

Every request is SigV4-verified (signing name `iot`) and authorized by the caller's IAM role policy
(`iot:CreatePolicy`, `iot:AttachPolicy`, ... on the policy or rule ARN), as AWS IAM does.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from localcore.http.gateway import Gateway
from localcore.iam.authorizer import IamAuthorizer
from localcore.identity.credentials import Caller
from localcore.iot.backend import IotBackend
from localcore.iot.exceptions import InvalidRequestException, ResourceNotFoundException
from localcore.iot.policies import StoredPolicy

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENDPOINT_TYPES = ("iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs")
MAX_PAGE_SIZE = 250  # ListTargetsForPolicy pageSize range 1-250


class IotApi:
    """Routes for policies, attachments, topic rules and DescribeEndpoint."""

    def __init__(self, backend: IotBackend, iam: IamAuthorizer, data_endpoint: Callable[[], str]) -> None:
        self.backend = backend
        self.policies = backend.policies
        self.rules = backend.rules
        self.iam = iam
        self.data_endpoint = data_endpoint

    def mount(self, gateway: Gateway) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/policies", self.list_policies),
            ("POST", "/policies/{name}", self.create_policy),
            ("GET", "/policies/{name}", self.get_policy),
            ("DELETE", "/policies/{name}", self.delete_policy),
            ("POST", "/policies/{name}/version", self.create_policy_version),
            ("GET", "/policies/{name}/version", self.list_policy_versions),
            ("GET", "/policies/{name}/version/{version}", self.get_policy_version),
            ("PATCH", "/policies/{name}/version/{version}", self.set_default_version),
            ("DELETE", "/policies/{name}/version/{version}", self.delete_policy_version),
            ("PUT", "/target-policies/{name}", self.attach_policy),
            ("POST", "/target-policies/{name}", self.detach_policy),
            ("POST", "/attached-policies/{target:.+}", self.list_attached_policies),
            ("POST", "/policy-targets/{name}", self.list_targets_for_policy),
            ("GET", "/endpoint", self.describe_endpoint),
            ("GET", "/rules", self.list_topic_rules),
            ("POST", "/rules/{name}", self.create_topic_rule),
            ("GET", "/rules/{name}", self.get_topic_rule),
            ("PATCH", "/rules/{name}", self.replace_topic_rule),
            ("DELETE", "/rules/{name}", self.delete_topic_rule),
            ("POST", "/rules/{name}/enable", self.enable_topic_rule),
            ("POST", "/rules/{name}/disable", self.disable_topic_rule),
        ]
        for method, path, handler in routes:
            gateway.add_route(method, path, handler, service="iot")

    # authorization ------------------------------------------------------------------------------
    async def _authorize(self, request: web.Request, action: str, resource: str = "*") -> Caller:
        arn = resource if resource == "*" else self.backend.arn(resource)
        return await self.iam.authorize(request, {"iot", "execute-api"}, action, arn)

    # policies -----------------------------------------------------------------------------------
    async def create_policy(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:CreatePolicy", f"policy/{name}")
        body = await _json_body(request)
        policy = self.policies.create_policy(name, _document(body))
        return web.json_response(
            {
                "policyName": policy.name,
                "policyArn": policy.arn,
                "policyDocument": policy.default.text,
                "policyVersionId": policy.default_version,
            }
        )

    async def get_policy(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:GetPolicy", f"policy/{name}")
        policy = self.policies.get_policy(name)
        return web.json_response(_policy_body(policy))

    async def list_policies(self, request: web.Request) -> web.StreamResponse:
        await self._authorize(request, "iot:ListPolicies")
        items = [{"policyName": p.name, "policyArn": p.arn} for p in self.policies.list_policies()]
        if request.query.get("isAscendingOrder", "true").lower() == "false":
            items.reverse()
        return web.json_response({"policies": items})

    async def delete_policy(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:DeletePolicy", f"policy/{name}")
        self.policies.delete_policy(name)
        return web.json_response({})

    async def create_policy_version(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:CreatePolicyVersion", f"policy/{name}")
        body = await _json_body(request)
        as_default = request.query.get("setAsDefault", "false").lower() == "true"
        version = self.policies.create_policy_version(name, _document(body), as_default)
        policy = self.policies.get_policy(name)
        return web.json_response(
            {
                "policyArn": policy.arn,
                "policyDocument": version.text,
                "policyVersionId": version.version_id,
                "isDefaultVersion": policy.default_version == version.version_id,
            }
        )

    async def list_policy_versions(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:ListPolicyVersions", f"policy/{name}")
        policy = self.policies.get_policy(name)
        versions = [
            {
                "versionId": v.version_id,
                "isDefaultVersion": v.version_id == policy.default_version,
                "createDate": v.created.timestamp(),
            }
            for v in sorted(policy.versions.values(), key=lambda v: int(v.version_id), reverse=True)
        ]
        return web.json_response({"policyVersions": versions})

    async def get_policy_version(self, request: web.Request) -> web.StreamResponse:
        name, version_id = request.match_info["name"], request.match_info["version"]
        await self._authorize(request, "iot:GetPolicyVersion", f"policy/{name}")
        policy = self.policies.get_policy(name)
        version = policy.versions.get(version_id)
        if version is None:
            raise ResourceNotFoundException(f"Policy {name} version {version_id} not found")
        return web.json_response(
            {
                "policyArn": policy.arn,
                "policyName": policy.name,
                "policyDocument": version.text,
                "policyVersionId": version.version_id,
                "isDefaultVersion": version.version_id == policy.default_version,
                "creationDate": version.created.timestamp(),
                "lastModifiedDate": version.created.timestamp(),
                "generationId": str(self.policies.generation),
            }
        )

    async def set_default_version(self, request: web.Request) -> web.StreamResponse:
        name, version_id = request.match_info["name"], request.match_info["version"]
        await self._authorize(request, "iot:SetDefaultPolicyVersion", f"policy/{name}")
        self.policies.set_default_version(name, version_id)
        return web.json_response({})

    async def delete_policy_version(self, request: web.Request) -> web.StreamResponse:
        name, version_id = request.match_info["name"], request.match_info["version"]
        await self._authorize(request, "iot:DeletePolicyVersion", f"policy/{name}")
        self.policies.delete_policy_version(name, version_id)
        return web.json_response({})

    # attachments --------------------------------------------------------------------------------
    # AttachPolicy and DetachPolicy are authorised on their *target* (IAM knows certificate and thing-group
    # targets, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html); a Cognito
    # identity has no ARN, so only a statement on `*` allows them, whatever policy it names.
    async def attach_policy(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:AttachPolicy")
        self.policies.attach(name, _target(await _json_body(request)))
        return web.json_response({})

    async def detach_policy(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:DetachPolicy")
        self.policies.detach(name, _target(await _json_body(request)))
        return web.json_response({})

    async def list_attached_policies(self, request: web.Request) -> web.StreamResponse:
        target = unquote(request.match_info["target"])
        await self._authorize(request, "iot:ListAttachedPolicies")
        items = [{"policyName": p.name, "policyArn": p.arn} for p in self.policies.attached_to(target)]
        return web.json_response({"policies": items})

    async def list_targets_for_policy(self, request: web.Request) -> web.StreamResponse:
        """`POST /policy-targets/{name}?marker=&pageSize=` (pageSize 1-250), answered with `targets` and, while
        more remain, an opaque base64 `nextMarker` (API_ListTargetsForPolicy.html)."""
        name = request.match_info["name"]
        await self._authorize(request, "iot:ListTargetsForPolicy", f"policy/{name}")
        targets = self.policies.targets_of(name)
        start, size = _page(request.query.get("marker"), request.query.get("pageSize"))
        body: dict[str, Any] = {"targets": targets[start : start + size]}
        if start + size < len(targets):
            body["nextMarker"] = base64.b64encode(str(start + size).encode()).decode()
        return web.json_response(body)

    async def describe_endpoint(self, request: web.Request) -> web.StreamResponse:
        await self._authorize(request, "iot:DescribeEndpoint")
        endpoint_type = request.query.get("endpointType", "iot:Data")
        if endpoint_type not in ENDPOINT_TYPES:
            raise InvalidRequestException(f"endpointType must be one of {ENDPOINT_TYPES}")
        return web.json_response({"endpointAddress": self.data_endpoint()})

    # topic rules --------------------------------------------------------------------------------
    async def create_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:CreateTopicRule", f"rule/{name}")
        self.rules.create(name, await _json_body(request))
        return web.json_response({})

    async def replace_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:ReplaceTopicRule", f"rule/{name}")
        self.rules.replace(name, await _json_body(request))
        return web.json_response({})

    async def get_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:GetTopicRule", f"rule/{name}")
        rule = self.rules.get(name)
        return web.json_response({"ruleArn": rule.arn, "rule": rule.as_topic_rule()})

    async def list_topic_rules(self, request: web.Request) -> web.StreamResponse:
        await self._authorize(request, "iot:ListTopicRules")
        disabled = request.query.get("ruleDisabled")
        items = self.rules.list_items(
            topic=request.query.get("topic"),
            disabled=None if disabled is None else disabled.lower() == "true",
        )
        return web.json_response({"rules": items})

    async def delete_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:DeleteTopicRule", f"rule/{name}")
        self.rules.delete(name)
        return web.json_response({})

    async def enable_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:EnableTopicRule", f"rule/{name}")
        self.rules.set_disabled(name, False)
        return web.json_response({})

    async def disable_topic_rule(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await self._authorize(request, "iot:DisableTopicRule", f"rule/{name}")
        self.rules.set_disabled(name, True)
        return web.json_response({})


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep to decode
        log.info("%s %s: request body is not JSON: %s", request.method, request.path, error)
        raise InvalidRequestException("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise InvalidRequestException("The request body must be a JSON object.")
    return body


def _page(marker: str | None, page_size: str | None) -> tuple[int, int]:
    """(start index, page size) from a ListTargetsForPolicy marker and pageSize (1-250, default 250)."""
    try:
        size = int(page_size) if page_size else MAX_PAGE_SIZE
        start = int(base64.b64decode(marker, validate=True)) if marker else 0
    except (ValueError, binascii.Error):
        raise InvalidRequestException(
            "marker and pageSize must be a marker from a previous page and 1-250"
        ) from None
    if not 1 <= size <= MAX_PAGE_SIZE or start < 0:
        raise InvalidRequestException(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    return start, size


def _document(body: dict[str, Any]) -> str:
    document = body.get("policyDocument")
    if not isinstance(document, str) or not document:
        raise InvalidRequestException("policyDocument is required")
    return document


def _target(body: dict[str, Any]) -> str:
    target = body.get("target")
    if not isinstance(target, str) or not target:
        raise InvalidRequestException("target is required")
    return target


def _policy_body(policy: StoredPolicy) -> dict[str, Any]:
    created = min(v.created for v in policy.versions.values()).timestamp()
    return {
        "policyName": policy.name,
        "policyArn": policy.arn,
        "policyDocument": policy.default.text,
        "defaultVersionId": policy.default_version,
        "creationDate": created,
        "lastModifiedDate": policy.default.created.timestamp(),
        "generationId": policy.default_version,
    }
