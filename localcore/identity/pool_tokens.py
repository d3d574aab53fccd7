"""The ID and access tokens a user pool issues at sign-in and refresh (claims as Cognito sets them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from localcore.identity.pool_models import AppClient, User, UserPool

Body = dict[str, Any]


@dataclass(frozen=True)
class Tokens:
    """What a sign-in or a refresh gives: signed ID and access tokens (and a refresh token at sign-in)."""

    access_token: str
    id_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True)
class NewPasswordRequired:
    """A sign-in answered with the NEW_PASSWORD_REQUIRED challenge (the user has a temporary password)."""

    session: str
    username: str


def issue_tokens(
    pool: UserPool, client: AppClient, user: User, origin_jti: str, auth_time: int, now: int
) -> Tokens:
    """Signed ID and access tokens for one session (no refresh token: the caller adds it at sign-in)."""
    common: Body = {"sub": user.sub, "iss": pool.signer.issuer, "origin_jti": origin_jti}
    common["event_id"] = str(uuid.uuid4())
    common["auth_time"] = auth_time
    common["iat"] = now
    if user.groups:
        common["cognito:groups"] = ordered_groups(pool, user)
    id_claims = {**common, "aud": client.client_id, "token_use": "id", "cognito:username": user.username}
    id_claims.update({"exp": now + client.id_token_seconds, "jti": str(uuid.uuid4())})
    for name in ("email", "email_verified", "name", "phone_number"):
        if name in user.attributes:
            value = user.attributes[name]
            id_claims[name] = value == "true" if name == "email_verified" else value
    access_claims = {**common, "client_id": client.client_id, "token_use": "access"}
    access_claims.update(
        {
            "scope": "aws.cognito.signin.user.admin",
            "username": user.username,
            "exp": now + client.access_token_seconds,
            "jti": str(uuid.uuid4()),
        }
    )
    return Tokens(pool.signer.sign(access_claims), pool.signer.sign(id_claims), client.access_token_seconds)


def ordered_groups(pool: UserPool, user: User) -> list[str]:
    """Groups by precedence (lowest first, unset last), then name, as Cognito lists them."""

    def key(name: str) -> tuple[int, str]:
        group = pool.groups.get(name)
        precedence = group.precedence if group and group.precedence is not None else 2**31
        return precedence, name

    return sorted(user.groups, key=key)
