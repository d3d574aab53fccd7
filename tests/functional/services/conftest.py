"""One running localcore for the AWS data service tests, and principals with a chosen IAM policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from clients.local_app import local_config
from localcore.identity.credentials import Role
from localcore.testing import RunningLocalcore

Signer = Callable[[str, dict[str, Any]], Any]


@pytest.fixture(scope="package")
def stack() -> Iterator[RunningLocalcore]:
    with RunningLocalcore(local_config()) as running:
        yield running


@pytest.fixture
def client_as(stack: RunningLocalcore) -> Callable[[str, dict[str, Any]], Any]:
    """`client_as(service, policy)`: a boto3 client signed by a principal whose role has only `policy`."""

    def make(service: str, policy: dict[str, Any]) -> Any:
        role = Role("limited", policy, stack.core.config.account)
        issued = stack.core.identity.store.mint_iam(role, "tester")
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=stack.url,
            region_name=stack.core.config.region,
            aws_access_key_id=issued.access_key_id,
            aws_secret_access_key=issued.secret_key,
        )

    return make
