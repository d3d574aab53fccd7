"""The identity services on their own gateway (see cognito_stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localcore.http import Gateway
from localcore.http.testing import GatewayThread
from localcore.identity import IdentityConfig, IdentityService
from tests.support.cognito_stack import DASHBOARD, UNAUTH, Clock, Stack


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A fresh identity service on its own gateway, with a test clock."""
    clock = Clock()
    config = IdentityConfig(
        group_roles={"dashboard": DASHBOARD}, unauthenticated_role=UNAUTH, allow_unauthenticated=True
    )
    identity = IdentityService(config, clock)
    gateway = Gateway()
    identity.mount(gateway)
    with GatewayThread(gateway) as gw:
        identity.set_public_url(gw.url)
        kwargs: dict[str, Any] = {
            "endpoint_url": gw.url,
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        idp = boto3.client("cognito-idp", **kwargs)
        yield Stack(clock, identity, gw, idp, boto3.client("cognito-identity", **kwargs))
