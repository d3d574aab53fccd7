"""cognito-idp: user pools, app clients, users, groups, sign-up and sign-in with RS256 JWTs.

All state of the service lives in `UserPools`; operations take and return the JSON 1.1 bodies of the
Cognito API (`AWSCognitoIdentityProviderService.<Operation>`).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcore.http.errors import AwsServiceError
from localcore.identity.attempts import CodeAttempts, SignInLockout
from localcore.identity.errors import cognito_error, require, str_param
from localcore.identity.passwords import PasswordPolicy, check_password, hash_password
from localcore.identity.pool_tokens import issue_tokens
from localcore.identity.tokens import TokenInvalid, TokenSigner

log = logging.getLogger(__name__)
Body = dict[str, Any]
SessionsEnded = Callable[["UserPool", "User"], None]
INCORRECT_CREDENTIALS = "Incorrect username or password."
CODE_MISMATCH = "Invalid verification code provided, please try again."
# Checked for unknown names, so that they cost the same password work as real ones.
_UNKNOWN_USER_HASH = hash_password(secrets.token_hex(16))


@dataclass
class AppClient:
    client_id: str
    name: str
    auth_flows: frozenset[str] = frozenset({"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"})
    id_token_seconds: int = 3600
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 30 * 24 * 3600
    # ENABLED: an unknown username gets the answers a wrong password or code gets (cognito-user-pool-managing-
    # errors.html); the API's default is LEGACY, the CDK app sets ENABLED (cdk/parts/identity.py).
    prevent_user_existence_errors: bool = False


@dataclass
class User:
    username: str
    sub: str
    password_hash: str
    attributes: dict[str, str]
    confirmed: bool = False
    confirmation_code: str | None = None
    must_change_password: bool = False  # AdminCreateUser / AdminSetUserPassword(Permanent=False)
    created: float = 0.0
    groups: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)  # live origin_jti values (GlobalSignOut clears)
    enabled: bool = True  # AdminDisableUser / AdminEnableUser


@dataclass
class Group:
    name: str
    precedence: int | None = None
    role_arn: str | None = None
    description: str | None = None


@dataclass
class RefreshGrant:
    username: str
    client_id: str
    origin_jti: str
    auth_time: int
    expires_at: float


@dataclass
class UserPool:
    pool_id: str
    name: str
    signer: TokenSigner
    region: str
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    auto_confirm: bool = False
    clients: dict[str, AppClient] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)

    @property
    def provider_name(self) -> str:
        """The key of this pool in cognito-identity `Logins` maps."""
        return f"cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


class UserPools:
    """The cognito-idp service: every pool, user and token it issued."""

    def __init__(self, issuer_base: str = "http://localhost", clock: Callable[[], float] = time.time) -> None:
        self.issuer_base = issuer_base.rstrip("/")
        self.clock = clock
        self.pools: dict[str, UserPool] = {}
        self.lockout = SignInLockout(self.now)
        self.code_attempts = CodeAttempts(self.now)
        self.sessions_ended: list[SessionsEnded] = []  # called when a user is disabled or deleted

    def now(self) -> float:
        return self.clock()

    # ----- configuration (also used by CreateUserPool / CreateUserPoolClient) -----

    def create_pool(
        self,
        name: str,
        *,
        pool_id: str | None = None,
        region: str = "us-east-1",
        password_policy: PasswordPolicy | None = None,
        auto_confirm: bool = False,
    ) -> UserPool:
        pool_id = pool_id or f"{region}_{secrets.token_hex(5)}"
        if pool_id in self.pools:
            raise ValueError(f"user pool {pool_id} already exists")
        signer = TokenSigner(f"{self.issuer_base}/{pool_id}", self.clock)
        pool = UserPool(pool_id, name, signer, region, password_policy or PasswordPolicy(), auto_confirm)
        self.pools[pool_id] = pool
        return pool

    def create_client(
        self,
        pool: UserPool,
        name: str,
        client_id: str | None = None,
        *,
        prevent_user_existence_errors: bool = False,
    ) -> AppClient:
        client = AppClient(client_id or secrets.token_hex(13), name)
        client.prevent_user_existence_errors = prevent_user_existence_errors
        pool.clients[client.client_id] = client
        return client

    def set_issuer_base(self, base: str) -> None:
        """Point every pool's `iss` at where the gateway serves it (`<base>/<poolId>`), once the port is known."""
        self.issuer_base = base.rstrip("/")
        for pool in self.pools.values():
            pool.signer.issuer = f"{self.issuer_base}/{pool.pool_id}"

    def confirmation_code(self, pool_id: str, username: str) -> str | None:
        """The code SignUp would have e-mailed (localcore logs it and exposes it here)."""
        return self.find_pool(pool_id).users[username].confirmation_code

    # ----- lookups -----

    def find_pool(self, pool_id: str) -> UserPool:
        pool = self.pools.get(pool_id)
        if pool is None:
            raise cognito_error("ResourceNotFoundException", f"User pool {pool_id} does not exist.")
        return pool

    def _client(self, client_id: str) -> tuple[UserPool, AppClient]:
        for pool in self.pools.values():
            if client_id in pool.clients:
                return pool, pool.clients[client_id]
        raise cognito_error("ResourceNotFoundException", "User pool client " + client_id + " does not exist.")

    @staticmethod
    def find_user(pool: UserPool, username: str) -> User:
        user = pool.users.get(username)
        if user is None:
            raise cognito_error("UserNotFoundException", "User does not exist.")
        return user

    def pool_for_provider(self, provider_name: str) -> UserPool | None:
        """The pool behind a `cognito-idp.<region>.amazonaws.com/<poolId>` login provider name."""
        return next((p for p in self.pools.values() if p.provider_name == provider_name), None)

    # ----- operations -----

    def create_user_pool(self, params: Body) -> Body:
        name = str_param(params, "PoolName")
        policy_in = params.get("Policies", {}).get("PasswordPolicy", {})
        policy = PasswordPolicy(
            minimum_length=int(policy_in.get("MinimumLength", 8)),
            require_uppercase=bool(policy_in.get("RequireUppercase", True)),
            require_lowercase=bool(policy_in.get("RequireLowercase", True)),
            require_numbers=bool(policy_in.get("RequireNumbers", True)),
            require_symbols=bool(policy_in.get("RequireSymbols", True)),
        )
        pool = self.create_pool(name, password_policy=policy)
        return {"UserPool": {"Id": pool.pool_id, "Name": pool.name, "Arn": self._pool_arn(pool)}}

    def create_user_pool_client(self, params: Body) -> Body:
        pool = self.find_pool(str_param(params, "UserPoolId"))
        prevent = params.get("PreventUserExistenceErrors", "LEGACY")
        if prevent not in ("ENABLED", "LEGACY"):
            raise cognito_error(
                "InvalidParameterException", "PreventUserExistenceErrors must be ENABLED or LEGACY"
            )
        client = self.create_client(
            pool, str_param(params, "ClientName"), prevent_user_existence_errors=prevent == "ENABLED"
        )
        if "ExplicitAuthFlows" in params:
            client.auth_flows = frozenset(params["ExplicitAuthFlows"])
        out: Body = {"UserPoolId": pool.pool_id, "ClientName": client.name, "ClientId": client.client_id}
        out["ExplicitAuthFlows"] = sorted(client.auth_flows)
        out["PreventUserExistenceErrors"] = "ENABLED" if client.prevent_user_existence_errors else "LEGACY"
        return {"UserPoolClient": out}

    def sign_up(self, params: Body) -> Body:
        pool, _ = self._client(str_param(params, "ClientId"))
        username = str_param(params, "Username")
        password = str_param(params, "Password")
        if username in pool.users:
            raise cognito_error("UsernameExistsException", "User already exists")
        problem = pool.password_policy.violation(password)
        if problem:
            raise cognito_error("InvalidPasswordException", problem)
        attributes = {a["Name"]: a["Value"] for a in params.get("UserAttributes", []) or []}
        user = User(username, str(uuid.uuid4()), hash_password(password), attributes, created=self.clock())
        if pool.auto_confirm:
            user.confirmed = True
        else:
            user.confirmation_code = f"{secrets.randbelow(10**6):06d}"
            log.info(
                "cognito-idp: confirmation code for %s/%s is %s",
                pool.pool_id,
                username,
                user.confirmation_code,
            )
        pool.users[username] = user
        out: Body = {"UserConfirmed": user.confirmed, "UserSub": user.sub}
        if not user.confirmed and "email" in attributes:
            out["CodeDeliveryDetails"] = {
                "Destination": _mask(attributes["email"]),
                "DeliveryMedium": "EMAIL",
                "AttributeName": "email",
            }
        return out

    def confirm_sign_up(self, params: Body) -> Body:
        """At most 5 wrong codes an hour per username (`attempts.CodeAttempts`); with
        PreventUserExistenceErrors an unknown username is answered like a wrong code."""
        pool, client = self._client(str_param(params, "ClientId"))
        username = str_param(params, "Username")
        code = str_param(params, "ConfirmationCode")
        key = (pool.pool_id, username)
        self.code_attempts.check(key)
        user = pool.users.get(username)
        if user is None and not client.prevent_user_existence_errors:
            raise cognito_error("UserNotFoundException", "User does not exist.")
        if user is not None and user.confirmed:
            raise cognito_error(
                "NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"
            )
        if user is None or not secrets.compare_digest(code, user.confirmation_code or ""):
            self.code_attempts.failed(key)
            raise cognito_error("CodeMismatchException", CODE_MISMATCH)
        self.code_attempts.succeeded(key)
        user.confirmed, user.confirmation_code = True, None
        return {}

    def create_group(self, params: Body) -> Body:
        pool = self.find_pool(str_param(params, "UserPoolId"))
        name = str_param(params, "GroupName")
        if name in pool.groups:
            raise cognito_error("GroupExistsException", "A group with the name already exists.")
        group = Group(name, params.get("Precedence"), params.get("RoleArn"), params.get("Description"))
        pool.groups[name] = group
        return {"Group": {"GroupName": name, "UserPoolId": pool.pool_id, "Precedence": group.precedence}}

    def initiate_auth(self, params: Body) -> Body:
        flow = str_param(params, "AuthFlow")
        pool, client = self._client(str_param(params, "ClientId"))
        auth = params.get("AuthParameters") or {}
        if flow == "USER_PASSWORD_AUTH":
            if "ALLOW_USER_PASSWORD_AUTH" not in client.auth_flows:
                raise cognito_error(
                    "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"
                )
            return self._password_auth(pool, client, auth)
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self._refresh_auth(pool, client, auth)
        raise cognito_error("InvalidParameterException", f"Unsupported AuthFlow {flow} (localcore)")

    def _password_auth(self, pool: UserPool, client: AppClient, auth: Body) -> Body:
        """The lockout is checked first, and kept for unknown names too; with PreventUserExistenceErrors an
        unknown name is answered exactly like a wrong password (and costs the same password check)."""
        username, password = str_param(auth, "USERNAME"), str_param(auth, "PASSWORD")
        key = (pool.pool_id, username)
        self.lockout.check(key)
        user = pool.users.get(username)
        if user is None and not client.prevent_user_existence_errors:
            raise cognito_error("UserNotFoundException", "User does not exist.")
        if not check_password(password, user.password_hash if user else _UNKNOWN_USER_HASH):
            self.lockout.failed(key)
            raise cognito_error("NotAuthorizedException", INCORRECT_CREDENTIALS)
        assert user is not None  # the unknown-user hash matches no password
        self.lockout.succeeded(key)
        if not user.enabled:
            raise cognito_error("NotAuthorizedException", "User is disabled.")
        if not user.confirmed:
            raise cognito_error("UserNotConfirmedException", "User is not confirmed.")
        if user.must_change_password:
            return {
                "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": secrets.token_urlsafe(48),
                "ChallengeParameters": {"USER_ID_FOR_SRP": user.username, "requiredAttributes": "[]"},
            }
        origin_jti = str(uuid.uuid4())
        now = int(self.clock())
        user.sessions.add(origin_jti)
        refresh = secrets.token_urlsafe(48)
        pool.refresh_tokens[refresh] = RefreshGrant(
            user.username, client.client_id, origin_jti, now, now + client.refresh_token_seconds
        )
        result = issue_tokens(pool, client, user, origin_jti, now, now)
        result["RefreshToken"] = refresh
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def _refresh_auth(self, pool: UserPool, client: AppClient, auth: Body) -> Body:
        require(auth, "REFRESH_TOKEN")
        grant = pool.refresh_tokens.get(str(auth["REFRESH_TOKEN"]))
        user = pool.users.get(grant.username) if grant else None
        if (
            grant is None
            or user is None
            or not user.enabled
            or grant.client_id != client.client_id
            or grant.expires_at <= self.clock()
            or grant.origin_jti not in user.sessions
        ):
            raise cognito_error("NotAuthorizedException", "Invalid Refresh Token")
        result = issue_tokens(pool, client, user, grant.origin_jti, grant.auth_time, int(self.clock()))
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    def _access_token_user(self, token: str) -> tuple[UserPool, User]:
        for pool in self.pools.values():
            try:
                claims = pool.signer.verify(token, "access")
            except TokenInvalid as exc:
                if exc.expired:
                    raise cognito_error("NotAuthorizedException", "Access Token has expired") from exc
                continue
            user = pool.users.get(claims.get("username", ""))
            if user is None or user.sub != claims["sub"]:
                raise cognito_error("UserNotFoundException", "User does not exist.")
            if claims.get("origin_jti") not in user.sessions:
                raise cognito_error("NotAuthorizedException", "Access Token has been revoked")
            return pool, user
        raise cognito_error("NotAuthorizedException", "Invalid Access Token")

    def get_user(self, params: Body) -> Body:
        _, user = self._access_token_user(str_param(params, "AccessToken"))
        attributes = [{"Name": "sub", "Value": user.sub}]
        attributes += [{"Name": k, "Value": v} for k, v in user.attributes.items()]
        return {"Username": user.username, "UserAttributes": attributes}

    def global_sign_out(self, params: Body) -> Body:
        """Every token of the user stops working: access tokens at user operations, refresh tokens, and ID
        tokens at an identity pool with ServerSideTokenCheck (API_GlobalSignOut.html). Credentials already
        issued by an identity pool are not tokens: they live until they expire, as on AWS."""
        pool, user = self._access_token_user(str_param(params, "AccessToken"))
        self.revoke_tokens(pool, user)
        return {}

    def revoke_tokens(self, pool: UserPool, user: User) -> None:
        """No session of the user is live any more, and its refresh tokens are gone."""
        user.sessions.clear()
        for token in [t for t, g in pool.refresh_tokens.items() if g.username == user.username]:
            del pool.refresh_tokens[token]

    def end_access(self, pool: UserPool, user: User) -> None:
        """Disabled or deleted: tokens revoked, and `sessions_ended` listeners end what was issued from them
        (localcore revokes the identity's credentials and closes its MQTT connections)."""
        self.revoke_tokens(pool, user)
        for listener in self.sessions_ended:
            listener(pool, user)

    def id_token_live(self, pool: UserPool, claims: dict[str, Any]) -> bool:
        """ServerSideTokenCheck: the ID token's user still exists, is enabled and was not signed out."""
        user = pool.users.get(str(claims.get("cognito:username", "")))
        return (
            user is not None
            and user.sub == claims.get("sub")
            and user.enabled
            and claims.get("origin_jti") in user.sessions
        )

    def _pool_arn(self, pool: UserPool) -> str:
        return f"arn:aws:cognito-idp:{pool.region}:000000000000:userpool/{pool.pool_id}"

    def operations(self) -> dict[str, Callable[[Body], Body]]:
        """The JSON 1.1 operation table for `AWSCognitoIdentityProviderService`."""
        return {
            "CreateUserPool": self.create_user_pool,
            "CreateUserPoolClient": self.create_user_pool_client,
            "SignUp": self.sign_up,
            "ConfirmSignUp": self.confirm_sign_up,
            "CreateGroup": self.create_group,
            "InitiateAuth": self.initiate_auth,
            "GetUser": self.get_user,
            "GlobalSignOut": self.global_sign_out,
        }


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if domain else "***"


__all__ = ["AppClient", "AwsServiceError", "Group", "User", "UserPool", "UserPools"]
