"""The cognito-identity backend: identity pools, stable identity ids per login, temporary credentials per
identity. Typed methods; the JSON 1.1 operations (`AWSCognitoIdentityService.*`) are `identity_api.py`'s.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcore.identity.credentials import CredentialStore, IssuedCredential, Role
from localcore.identity.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
)
from localcore.identity.tokens import TokenInvalid
from localcore.identity.user_pools import UserPools

log = logging.getLogger(__name__)
LOGINS_MISMATCH = (
    "Logins don't match. Please include at least one valid login for this identity or identity pool."
)
UNAUTHENTICATED_OFF = "Unauthenticated access is not supported for this identity pool."
INVALID_TOKEN = "Invalid login token. Not a valid OpenId Connect identity token."


@dataclass
class IdentityPool:
    """Configured at start: which user pool clients may sign in, and the roles identities get."""

    pool_id: str
    name: str
    authenticated_role: Role
    unauthenticated_role: Role | None = None
    allow_unauthenticated: bool = False
    # provider name (`cognito-idp.<region>.amazonaws.com/<userPoolId>`) -> accepted app client ids
    providers: dict[str, set[str]] = field(default_factory=dict)
    # `cognito:groups` value -> role, checked in the token's group order (a "Rules" role mapping)
    group_roles: dict[str, Role] = field(default_factory=dict)
    credential_seconds: int = 3600
    # Check with the user pool that the token's user was not signed out, disabled or deleted
    # (API_CognitoIdentityProvider.html; the CDK app sets it; the API's default is off).
    server_side_token_check: bool = False


@dataclass
class Identity:
    identity_id: str
    pool_id: str
    login: tuple[str, str] | None  # (provider name, user sub); None while unauthenticated


class IdentityPools:
    """The cognito-identity service state: pools, identities, and the credential store it mints into."""

    def __init__(
        self, user_pools: UserPools, store: CredentialStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.user_pools = user_pools
        self.store = store
        self.clock = clock
        self.pools: dict[str, IdentityPool] = {}
        self.identities: dict[str, Identity] = {}
        self._by_login: dict[tuple[str, str, str], str] = {}  # (pool id, provider, sub) -> identity id

    def add_pool(self, pool: IdentityPool) -> IdentityPool:
        self.pools[pool.pool_id] = pool
        return pool

    def _pool(self, pool_id: str) -> IdentityPool:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise ResourceNotFoundException(f"IdentityPool '{pool_id}' not found.")
        return pool

    def _verify_logins(self, pool: IdentityPool, logins: object) -> tuple[str, dict[str, Any]] | None:
        """None for no logins; else (provider, id-token claims) after full verification."""
        if not logins:
            return None
        if not isinstance(logins, dict) or len(logins) != 1:
            raise InvalidParameterException("Logins must map exactly one provider to a token")
        provider, token = next(iter(logins.items()))
        clients = pool.providers.get(provider)
        user_pool = self.user_pools.pool_for_provider(provider)
        if clients is None or user_pool is None:
            raise NotAuthorizedException(f"Invalid login token. Provider {provider} not configured.")
        try:
            claims = user_pool.signer.verify(str(token), "id", audience=clients)
        except TokenInvalid as exc:
            log.info("cognito-identity: login token refused: %s", exc)
            message = "Invalid login token. Token expired" if exc.expired else INVALID_TOKEN
            raise NotAuthorizedException(message) from exc
        if pool.server_side_token_check and not self.user_pools.id_token_live(user_pool, claims):
            log.info(
                "cognito-identity: token of %s refused: signed out, disabled or deleted", claims.get("sub")
            )
            raise NotAuthorizedException("Invalid login token. The token has been revoked.")
        return provider, claims

    def identities_of(self, provider: str, sub: str) -> list[str]:
        """The identity ids linked to a user pool user (one per identity pool)."""
        return [
            identity_id
            for (_pool, linked_provider, linked_sub), identity_id in self._by_login.items()
            if (linked_provider, linked_sub) == (provider, sub)
        ]

    def _new_identity(self, pool: IdentityPool, login: tuple[str, str] | None) -> Identity:
        region = pool.pool_id.split(":", 1)[0]
        identity = Identity(f"{region}:{uuid.uuid4()}", pool.pool_id, login)
        self.identities[identity.identity_id] = identity
        if login is not None:
            self._by_login[(pool.pool_id, *login)] = identity.identity_id
        return identity

    def get_id(self, pool_id: str, logins: object) -> str:
        """The identity id for the login in `logins` (the same one every time), or a new unauthenticated one
        when the pool allows it and `logins` is empty."""
        pool = self._pool(pool_id)
        verified = self._verify_logins(pool, logins)
        if verified is None:
            if not pool.allow_unauthenticated:
                raise NotAuthorizedException(UNAUTHENTICATED_OFF)
            return self._new_identity(pool, None).identity_id
        provider, claims = verified
        existing = self._by_login.get((pool.pool_id, provider, claims["sub"]))
        if existing is not None:
            return existing
        return self._new_identity(pool, (provider, claims["sub"])).identity_id

    def get_credentials_for_identity(self, identity_id: str, logins: object) -> IssuedCredential:
        """Temporary credentials for the identity's role (its group's, if mapped), minted into the store."""
        identity = self.identities.get(identity_id)
        if identity is None:
            raise ResourceNotFoundException(f"Identity '{identity_id}' not found.")
        pool = self._pool(identity.pool_id)
        verified = self._verify_logins(pool, logins)
        if verified is None:
            if identity.login is not None:
                raise NotAuthorizedException(LOGINS_MISMATCH)
            if not pool.allow_unauthenticated or pool.unauthenticated_role is None:
                raise NotAuthorizedException(UNAUTHENTICATED_OFF)
            return self.store.mint_for_identity(
                identity_id, pool.pool_id, pool.unauthenticated_role, False, pool.credential_seconds
            )
        provider, claims = verified
        login = (provider, claims["sub"])
        if identity.login is None:  # an unauthenticated identity signs in: link the login to it
            if (pool.pool_id, *login) in self._by_login:
                raise NotAuthorizedException("Logins don't match. This login is linked to another identity.")
            identity.login = login
            self._by_login[(pool.pool_id, *login)] = identity_id
        elif identity.login != login:
            raise NotAuthorizedException(LOGINS_MISMATCH)
        role = self._role_for(pool, claims)
        return self.store.mint_for_identity(identity_id, pool.pool_id, role, True, pool.credential_seconds)

    @staticmethod
    def _role_for(pool: IdentityPool, claims: dict[str, Any]) -> Role:
        """The first of the token's groups (in precedence order) mapped to a role, else the authenticated role."""
        for group in claims.get("cognito:groups", []):
            if group in pool.group_roles:
                return pool.group_roles[group]
        return pool.authenticated_role
