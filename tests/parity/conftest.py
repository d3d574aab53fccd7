"""Opt-in parity suite against a real deployment: `IOTSTREAM_PARITY=1 IOTSTREAM_CDK_OUTPUTS=cdk-outputs.json
pytest tests/parity`. Uses the AWS credentials of the environment (boto3's default chain) for admin calls
(AdminConfirmSignUp, AdminAddUserToGroup, AdminDeleteUser). Never runs in CI: skipped unless opted in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from clients.config import ClientConfig
from clients.session import Session, sign_in, sign_up

PASSWORD = "Parity-Passw0rd!"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("IOTSTREAM_PARITY") == "1" and os.environ.get("IOTSTREAM_CDK_OUTPUTS"):
        return
    skip = pytest.mark.skip(
        reason="real AWS: set IOTSTREAM_PARITY=1 and IOTSTREAM_CDK_OUTPUTS=<outputs file>"
    )
    for item in items:
        if "tests/parity" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def aws_config() -> ClientConfig:
    return ClientConfig.from_cdk_outputs(Path(os.environ["IOTSTREAM_CDK_OUTPUTS"]))


class AwsUsers:
    """Real Cognito users for one test session, deleted afterwards."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.admin: Any = boto3.client("cognito-idp", region_name=config.region)
        self.created: list[str] = []

    def create(self, prefix: str, *, dashboard: bool = False, attach: bool = True) -> Session:
        username = f"parity-{prefix}-{uuid.uuid4().hex[:8]}"
        result = sign_up(self.config, username, PASSWORD, f"{username}@example.com")
        self.created.append(username)
        if not result.confirmed:
            self.admin.admin_confirm_sign_up(UserPoolId=self.config.user_pool_id, Username=username)
        if dashboard:
            self.admin.admin_add_user_to_group(
                UserPoolId=self.config.user_pool_id, Username=username, GroupName="dashboard"
            )
        return sign_in(self.config, username, PASSWORD, attach=attach)

    def delete_all(self) -> None:
        for username in self.created:
            self.admin.admin_delete_user(UserPoolId=self.config.user_pool_id, Username=username)


@pytest.fixture(scope="session")
def aws_users(aws_config: ClientConfig) -> Iterator[AwsUsers]:
    users = AwsUsers(aws_config)
    yield users
    users.delete_all()
