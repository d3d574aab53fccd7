"""The IoT control plane alone on a gateway, with an admin key and an attach-only key, for boto3 tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3

from iot_policies.library import shipped_path
from localcore.control_plane.api import ControlPlaneApi
from localcore.control_plane.policy_store import PolicyStore
from localcore.http.gateway import Gateway
from localcore.http.testing import GatewayThread
from localcore.iam_authorizer import IamAuthorizer
from localcore.identity.credentials import Role
from localcore.identity.service import IdentityService
from localcore.principal_policies import PrincipalPolicies
from localcore.rules.store import RuleStore
from localcore.sigv4 import SigV4Verifier

ADMIN_KEYS = ("AKIALOCALADMINTEST1", "admin-secret")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ATTACH_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iot:AttachPolicy"], "Resource": "*"}],
}
IDENTITY = "us-east-1:11111111-2222-3333-4444-555555555555"


def running_control_plane() -> Iterator[dict[str, Any]]:
    """`url`, the policy `store` (with `iotstream-user`) and the attach-only credential `attacher`."""
    identity = IdentityService()
    store = PolicyStore()
    store.create_policy("iotstream-user", shipped_path("user").read_text())
    rules: RuleStore = RuleStore()
    identity.store.mint_iam(Role("localcore-admin", ALLOW_ALL), "admin", keys=ADMIN_KEYS)
    attacher = identity.store.mint_iam(Role("attach-role", ATTACH_ONLY), "attach_policy")
    iam = IamAuthorizer(SigV4Verifier(identity.store), PrincipalPolicies(store))
    api = ControlPlaneApi(store, rules, iam, lambda: "localhost")
    gateway = Gateway()
    api.mount(gateway)
    with GatewayThread(gateway) as running:
        yield {"url": running.url, "store": store, "attacher": attacher}


def iot_client(url: str, keys: tuple[str, str] = ADMIN_KEYS) -> Any:
    return boto3.client(
        "iot",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )
