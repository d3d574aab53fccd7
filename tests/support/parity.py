"""The parity suite's targets (localcore, or a real deployment) and its users, made by an administrator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from clients.config import ClientConfig
from clients.session import Session, sign_in

PASSWORD = "Parity-Passw0rd!"


DASHBOARD_GROUP = "dashboard"


@dataclass
class Target:
    """Where the suite runs: the client config and admin clients for Cognito and IoT."""

    name: str  # "localcore" or "aws"
    config: ClientConfig
    admin_credentials: dict[str, str] = field(default_factory=dict)  # empty: boto3's default chain

    def admin(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.config.region,
            endpoint_url=self.config.endpoint_url,
            **self.admin_credentials,
        )


class ParityUsers:
    """Users made by an administrator, without any mail: AdminCreateUser (MessageAction SUPPRESS) then
    AdminSetUserPassword(Permanent); e-mail-shaped usernames (the CDK pool signs in with e-mail)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.cognito = target.admin("cognito-idp")
        self.created: list[str] = []

    @property
    def pool(self) -> str:
        return self.target.config.user_pool_id

    def register(self, prefix: str, *, dashboard: bool = False) -> str:
        username = f"parity-{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        self.cognito.admin_create_user(
            UserPoolId=self.pool,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        self.created.append(username)
        self.cognito.admin_set_user_password(
            UserPoolId=self.pool, Username=username, Password=PASSWORD, Permanent=True
        )
        if dashboard:
            self.set_dashboard(username, True)
        return username

    def set_dashboard(self, username: str, member: bool) -> None:
        change = self.cognito.admin_add_user_to_group if member else self.cognito.admin_remove_user_from_group
        change(UserPoolId=self.pool, Username=username, GroupName=DASHBOARD_GROUP)

    def sign_in(self, username: str, *, attach: bool = True) -> Session:
        return sign_in(self.target.config, username, PASSWORD, attach=attach)

    def create(self, prefix: str, *, dashboard: bool = False, attach: bool = True) -> Session:
        return self.sign_in(self.register(prefix, dashboard=dashboard), attach=attach)

    def delete_all(self) -> None:
        for username in self.created:
            self.cognito.admin_delete_user(UserPoolId=self.pool, Username=username)
