"""The IoT control plane alone on a gateway, with an admin key and an attach-only key, for boto3 tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from iot_policies.library import shipped_path
from localcore.http.gateway import Gateway
from localcore.http.testing import GatewayThread
from localcore.iam.authorizer import IamAuthorizer
from localcore.iam.principals import PrincipalPolicies
from localcore.identity.credentials import Role
from localcore.identity.service import IdentityService
from localcore.iot.api import IotApi
from localcore.iot.backend import IotBackend
from localcore.iot.issuer import DeviceIssuer
from localcore.sigv4 import SigV4Verifier

ADMIN_KEYS = ("AKIALOCALADMINTEST1", "admin-secret")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ATTACH_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iot:AttachPolicy"], "Resource": "*"}],
}
IDENTITY = "us-east-1:11111111-2222-3333-4444-555555555555"


def running_control_plane() -> Iterator[dict[str, Any]]:
    """`url`, the `backend`, its policy `store` (with `iotstream-user`) and the attach-only credential
    `attacher`; the device CA lives in a temporary folder."""
    identity = IdentityService()
    tls = tempfile.TemporaryDirectory(prefix="control-plane-")
    backend = IotBackend(issuer=DeviceIssuer(Path(tls.name)))
    store = backend.policies
    store.create_policy("iotstream-user", shipped_path("user").read_text())
    identity.store.mint_iam(Role("localcore-admin", ALLOW_ALL), "admin", keys=ADMIN_KEYS)
    attacher = identity.store.mint_iam(Role("attach-role", ATTACH_ONLY), "attach_policy")
    iam = IamAuthorizer(SigV4Verifier(identity.store), PrincipalPolicies(store))
    api = IotApi(backend, iam, lambda: "localhost")
    gateway = Gateway()
    api.mount(gateway)
    with tls, GatewayThread(gateway) as running:
        yield {"url": running.url, "backend": backend, "store": store, "attacher": attacher}


def iot_client(url: str, keys: tuple[str, str] = ADMIN_KEYS) -> Any:
    return boto3.client(
        "iot",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )
