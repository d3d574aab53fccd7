"""The identity services alone on a gateway (no IAM on admin operations), with an injectable clock, and the
boto3 calls the Cognito tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcore.http.testing import GatewayThread
from localcore.identity import (
    DEFAULT_CLIENT_ID,
    DEFAULT_IDENTITY_POOL_ID,
    DEFAULT_USER_POOL_ID,
    IdentityService,
    Role,
)

PASSWORD = "Correct-Horse-9"
PROVIDER = f"cognito-idp.us-east-1.amazonaws.com/{DEFAULT_USER_POOL_ID}"
START = 1_800_000_000.0
DASHBOARD = Role("iotstream-dashboard", {"Version": "2012-10-17", "Statement": []})
UNAUTH = Role("iotstream-unauthenticated", {"Version": "2012-10-17", "Statement": []})


class Clock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    clock: Clock
    identity: IdentityService
    gw: GatewayThread
    idp: Any
    cid: Any


def sign_up_and_confirm(stack: Stack, username: str, email: str | None = None) -> None:
    attrs = [{"Name": "email", "Value": email}] if email else []
    out = stack.idp.sign_up(
        ClientId=DEFAULT_CLIENT_ID, Username=username, Password=PASSWORD, UserAttributes=attrs
    )
    assert out["UserConfirmed"] is False
    code = stack.identity.user_pools.confirmation_code(DEFAULT_USER_POOL_ID, username)
    assert code is not None
    stack.idp.confirm_sign_up(ClientId=DEFAULT_CLIENT_ID, Username=username, ConfirmationCode=code)


def sign_in(stack: Stack, username: str, password: str = PASSWORD) -> dict[str, Any]:
    out = stack.idp.initiate_auth(
        ClientId=DEFAULT_CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return dict(out["AuthenticationResult"])


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def credentials_for(stack: Stack, id_token: str | None) -> tuple[str, dict[str, Any]]:
    logins = {PROVIDER: id_token} if id_token else {}
    identity_id = stack.cid.get_id(IdentityPoolId=DEFAULT_IDENTITY_POOL_ID, Logins=logins)["IdentityId"]
    out = stack.cid.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)
    assert out["IdentityId"] == identity_id
    return identity_id, out["Credentials"]
