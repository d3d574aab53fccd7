"""Assemble cognito-idp, cognito-identity and the credential store (the backends), and mount their JSON
APIs and the user pools' JWKS / OpenID discovery routes on the gateway."""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from localcore.http.errors import AwsServiceError
from localcore.http.gateway import Gateway, JsonBody, JsonOperation
from localcore.identity.credentials import CredentialStore, Role
from localcore.identity.handshake import SigV4HandshakeVerifier
from localcore.identity.identity_api import CognitoIdentityApi
from localcore.identity.identity_pools import IdentityPool, IdentityPools
from localcore.identity.idp_api import PUBLIC_OPERATIONS, CognitoIdpApi
from localcore.identity.passwords import PasswordPolicy
from localcore.identity.pool_models import User, UserPool
from localcore.identity.user_pools import UserPools

log = logging.getLogger(__name__)
IDP_TARGET = "AWSCognitoIdentityProviderService"
IamCheck = Callable[[web.Request, str], Awaitable[object]]
IDENTITY_TARGET = "AWSCognitoIdentityService"
DEFAULT_USER_POOL_ID = "us-east-1_local"
DEFAULT_CLIENT_ID = "localcoreclient"
DEFAULT_IDENTITY_POOL_ID = "us-east-1:00000000-0000-4000-8000-000000000001"


@dataclass
class IdentityConfig:
    """What localcore's identity services start with (one user pool, one client, one identity pool)."""

    region: str = "us-east-1"
    user_pool_id: str = DEFAULT_USER_POOL_ID
    client_id: str = DEFAULT_CLIENT_ID
    identity_pool_id: str = DEFAULT_IDENTITY_POOL_ID
    auto_confirm: bool = False
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    groups: tuple[str, ...] = ("dashboard",)
    authenticated_role: Role = field(default_factory=lambda: Role("iotstream-authenticated"))
    unauthenticated_role: Role | None = None
    allow_unauthenticated: bool = False
    group_roles: dict[str, Role] = field(
        default_factory=dict
    )  # e.g. {"dashboard": Role("iotstream-dashboard")}
    credential_seconds: int = 3600
    prevent_user_existence_errors: bool = True  # the app client's setting in the CDK app
    server_side_token_check: bool = True  # the identity pool's setting in the CDK app


def load_role(name: str, policy_file: str) -> Role:
    """A role whose identity policy is a JSON document on disk (e.g. `iot_policies/role-authenticated.json`)."""
    return Role(name, json.loads(Path(policy_file).read_text(encoding="utf-8")))


class IdentityService:
    """cognito-idp + cognito-identity + the credential store, sharing one clock."""

    def __init__(self, config: IdentityConfig | None = None, clock: Callable[[], float] = time.time) -> None:
        self.config = config = config or IdentityConfig()
        self.clock = clock  # replaceable at run time (tests move time forward); every part reads it via now()
        self.store = CredentialStore(self.now)
        self.user_pools = UserPools(clock=self.now)
        pool = self.user_pools.create_pool(
            "localcore",
            pool_id=config.user_pool_id,
            region=config.region,
            password_policy=config.password_policy,
            auto_confirm=config.auto_confirm,
        )
        self.user_pools.create_client(
            pool,
            "localcore",
            config.client_id,
            prevent_user_existence_errors=config.prevent_user_existence_errors,
        )
        for group in config.groups:
            self.user_pools.create_group(pool.pool_id, group)
        self.identity_pools = IdentityPools(self.user_pools, self.store, self.now)
        self.identity_pools.add_pool(
            IdentityPool(
                config.identity_pool_id,
                "localcore",
                config.authenticated_role,
                config.unauthenticated_role,
                config.allow_unauthenticated,
                providers={pool.provider_name: {config.client_id}},
                group_roles=dict(config.group_roles),
                credential_seconds=config.credential_seconds,
                server_side_token_check=config.server_side_token_check,
            )
        )
        self.identity_ended: list[Callable[[str], None]] = []
        """Called with each identity id whose credentials were revoked (its user disabled or deleted)."""
        self.user_pools.sessions_ended.append(self._end_identities)

    def now(self) -> float:
        """The service's current time: `clock()`, looked up on every call."""
        return self.clock()

    def _end_identities(self, pool: UserPool, user: User) -> None:
        """A disabled or deleted user: the credentials of its identities stop working now (localcore is
        stricter than AWS here, where they live until they expire), and listeners end what they carry."""
        for identity_id in self.identity_pools.identities_of(pool.provider_name, user.sub):
            revoked = self.store.revoke_identity(identity_id)
            log.info("cognito-identity: %s's access ended (%d keys revoked)", identity_id, revoked)
            for listener in self.identity_ended:
                listener(identity_id)

    def handshake_verifier(self, *, explain: bool = False) -> SigV4HandshakeVerifier:
        """The broker's WebSocket SigV4 check, resolving keys from this service's store; `explain` puts the
        refusal reason in the 403 body (development only: AWS never does)."""
        return SigV4HandshakeVerifier(self.store, self.now, explain=explain, region=self.config.region)

    def mount(self, gateway: Gateway, iam: IamCheck | None = None) -> None:
        """Register both JSON 1.1 targets and the JWKS / OpenID discovery routes.

        With `iam`, the administrative cognito-idp operations (CreateUserPool, Admin*, CreateGroup, ...) need
        a SigV4-signed request whose IAM policy allows `cognito-idp:<Operation>`, as on AWS; the public ones
        (SignUp, ConfirmSignUp, InitiateAuth, GetUser, GlobalSignOut) stay unsigned.
        """
        operations = _adapt(CognitoIdpApi(self.user_pools).operations())
        if iam is not None:
            for name in set(operations) - PUBLIC_OPERATIONS:
                operations[name] = _signed(operations[name], iam, f"cognito-idp:{name}")
        gateway.add_json_target(IDP_TARGET, operations, service="cognito-idp")
        identity_operations = CognitoIdentityApi(self.identity_pools).operations()
        gateway.add_json_target(IDENTITY_TARGET, _adapt(identity_operations), service="cognito-identity")
        gateway.add_route("GET", "/{pool_id}/.well-known/jwks.json", self._jwks, service="cognito-idp")
        gateway.add_route(
            "GET", "/{pool_id}/.well-known/openid-configuration", self._openid, service="cognito-idp"
        )

    def set_public_url(self, base_url: str) -> None:
        """Tokens' `iss` becomes `<base_url>/<poolId>`, so `iss + /.well-known/jwks.json` is served here."""
        self.user_pools.set_issuer_base(base_url)

    async def _jwks(self, request: web.Request) -> web.StreamResponse:
        pool = self.user_pools.pools.get(request.match_info["pool_id"])
        if pool is None:
            raise AwsServiceError("ResourceNotFoundException", "User pool does not exist.", 404)
        return web.json_response(pool.signer.jwks())

    async def _openid(self, request: web.Request) -> web.StreamResponse:
        pool = self.user_pools.pools.get(request.match_info["pool_id"])
        if pool is None:
            raise AwsServiceError("ResourceNotFoundException", "User pool does not exist.", 404)
        issuer = pool.signer.issuer
        document: dict[str, Any] = {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        }
        return web.json_response(document)


def _signed(operation: JsonOperation, iam: IamCheck, action: str) -> JsonOperation:
    """The operation, behind an IAM check of the signed request."""

    async def checked(params: JsonBody, request: web.Request) -> JsonBody:
        await iam(request, action)
        result = operation(params, request)
        return await result if inspect.isawaitable(result) else result

    return checked


def _adapt(operations: Mapping[str, Callable[[JsonBody], JsonBody]]) -> dict[str, JsonOperation]:
    """Gateway operations also receive the aiohttp request; Cognito's logic needs only the body."""

    def bind(op: Callable[[JsonBody], JsonBody]) -> JsonOperation:
        return lambda params, _request: op(params)

    return {name: bind(op) for name, op in operations.items()}
