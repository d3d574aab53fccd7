"""The ID and access tokens a user pool issues at sign-in and refresh (claims as Cognito sets them)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcore.identity.user_pools import AppClient, User, UserPool

Body = dict[str, Any]


def issue_tokens(
    pool: UserPool, client: AppClient, user: User, origin_jti: str, auth_time: int, now: int
) -> Body:
    """`AuthenticationResult` without the refresh token: signed ID and access tokens for one session."""
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
    return {
        "AccessToken": pool.signer.sign(access_claims),
        "IdToken": pool.signer.sign(id_claims),
        "ExpiresIn": client.access_token_seconds,
        "TokenType": "Bearer",
    }


def ordered_groups(pool: UserPool, user: User) -> list[str]:
    """Groups by precedence (lowest first, unset last), then name, as Cognito lists them."""

    def key(name: str) -> tuple[int, str]:
        group = pool.groups.get(name)
        precedence = group.precedence if group and group.precedence is not None else 2**31
        return precedence, name

    return sorted(user.groups, key=key)
