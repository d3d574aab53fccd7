"""The cognito-idp backend: user pools, app clients, users, groups, sign-up and sign-in with RS256 JWTs.

All state of the service lives here (the records are in `pool_models.py`); methods take and return typed
values and raise `exceptions.py`'s errors. The JSON 1.1 operations (`AWSCognitoIdentityProviderService.*`)
are `idp_api.py`'s.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from localcore.identity.attempts import CodeAttempts, SignInLockout
from localcore.identity.exceptions import (
    CodeMismatchException,
    GroupExistsException,
    InvalidParameterException,
    InvalidPasswordException,
    NotAuthorizedException,
    ResourceNotFoundException,
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from localcore.identity.params import require, str_param
from localcore.identity.passwords import PasswordPolicy, check_password, hash_password
from localcore.identity.pool_models import AppClient, Group, RefreshGrant, User, UserPool
from localcore.identity.pool_tokens import NewPasswordRequired, Tokens, issue_tokens
from localcore.identity.tokens import TokenInvalid, TokenSigner

log = logging.getLogger(__name__)
SessionsEnded = Callable[[UserPool, User], None]
SignIn = Tokens | NewPasswordRequired
INCORRECT_CREDENTIALS = "Incorrect username or password."
CODE_MISMATCH = "Invalid verification code provided, please try again."
# Checked for unknown names, so that they cost the same password work as real ones.
_UNKNOWN_USER_HASH = hash_password(secrets.token_hex(16))


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

    # ----- pools, clients, groups (CreateUserPool, CreateUserPoolClient, CreateGroup) -----

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
        auth_flows: frozenset[str] | None = None,
    ) -> AppClient:
        """An app client; `auth_flows` None keeps the default flows (password and refresh)."""
        client = AppClient(client_id or secrets.token_hex(13), name)
        client.prevent_user_existence_errors = prevent_user_existence_errors
        if auth_flows is not None:
            client.auth_flows = auth_flows
        pool.clients[client.client_id] = client
        return client

    def create_group(
        self,
        pool_id: str,
        name: str,
        precedence: int | None = None,
        role_arn: str | None = None,
        description: str | None = None,
    ) -> Group:
        pool = self.find_pool(pool_id)
        if name in pool.groups:
            raise GroupExistsException("A group with the name already exists.")
        group = Group(name, precedence, role_arn, description)
        pool.groups[name] = group
        return group

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
            raise ResourceNotFoundException(f"User pool {pool_id} does not exist.")
        return pool

    def _client(self, client_id: str) -> tuple[UserPool, AppClient]:
        for pool in self.pools.values():
            if client_id in pool.clients:
                return pool, pool.clients[client_id]
        raise ResourceNotFoundException("User pool client " + client_id + " does not exist.")

    @staticmethod
    def find_user(pool: UserPool, username: str) -> User:
        user = pool.users.get(username)
        if user is None:
            raise UserNotFoundException("User does not exist.")
        return user

    def pool_for_provider(self, provider_name: str) -> UserPool | None:
        """The pool behind a `cognito-idp.<region>.amazonaws.com/<poolId>` login provider name."""
        return next((p for p in self.pools.values() if p.provider_name == provider_name), None)

    # ----- sign-up -----

    def sign_up(self, client_id: str, username: str, password: str, attributes: Mapping[str, str]) -> User:
        """A new user, confirmed at once when the pool auto-confirms, else holding the code AWS would e-mail."""
        pool, _ = self._client(client_id)
        if username in pool.users:
            raise UsernameExistsException("User already exists")
        problem = pool.password_policy.violation(password)
        if problem:
            raise InvalidPasswordException(problem)
        user = User(
            username, str(uuid.uuid4()), hash_password(password), dict(attributes), created=self.clock()
        )
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
        return user

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> None:
        """At most 5 wrong codes an hour per username (`attempts.CodeAttempts`); with
        PreventUserExistenceErrors an unknown username is answered like a wrong code."""
        pool, client = self._client(client_id)
        key = (pool.pool_id, username)
        self.code_attempts.check(key)
        user = pool.users.get(username)
        if user is None and not client.prevent_user_existence_errors:
            raise UserNotFoundException("User does not exist.")
        if user is not None and user.confirmed:
            raise NotAuthorizedException("User cannot be confirmed. Current status is CONFIRMED")
        if user is None or not secrets.compare_digest(code, user.confirmation_code or ""):
            self.code_attempts.failed(key)
            raise CodeMismatchException(CODE_MISMATCH)
        self.code_attempts.succeeded(key)
        user.confirmed, user.confirmation_code = True, None

    # ----- sign-in -----

    def initiate_auth(self, client_id: str, flow: str, parameters: Mapping[str, Any]) -> SignIn:
        """USER_PASSWORD_AUTH (`USERNAME`, `PASSWORD`) or REFRESH_TOKEN_AUTH (`REFRESH_TOKEN`): which members
        of AuthParameters are required depends on the flow (API_InitiateAuth.html)."""
        pool, client = self._client(client_id)
        if flow == "USER_PASSWORD_AUTH":
            if "ALLOW_USER_PASSWORD_AUTH" not in client.auth_flows:
                raise InvalidParameterException("USER_PASSWORD_AUTH flow not enabled for this client")
            return self._password_auth(pool, client, parameters)
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self._refresh_auth(pool, client, parameters)
        raise InvalidParameterException(f"Unsupported AuthFlow {flow} (localcore)")

    def _password_auth(self, pool: UserPool, client: AppClient, auth: Mapping[str, Any]) -> SignIn:
        """The lockout is checked first, and kept for unknown names too; with PreventUserExistenceErrors an
        unknown name is answered exactly like a wrong password (and costs the same password check)."""
        username, password = str_param(auth, "USERNAME"), str_param(auth, "PASSWORD")
        key = (pool.pool_id, username)
        self.lockout.check(key)
        user = pool.users.get(username)
        if user is None and not client.prevent_user_existence_errors:
            raise UserNotFoundException("User does not exist.")
        if not check_password(password, user.password_hash if user else _UNKNOWN_USER_HASH):
            self.lockout.failed(key)
            raise NotAuthorizedException(INCORRECT_CREDENTIALS)
        assert user is not None  # the unknown-user hash matches no password
        self.lockout.succeeded(key)
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        if not user.confirmed:
            raise UserNotConfirmedException("User is not confirmed.")
        if user.must_change_password:
            return NewPasswordRequired(secrets.token_urlsafe(48), user.username)
        origin_jti = str(uuid.uuid4())
        now = int(self.clock())
        user.sessions.add(origin_jti)
        refresh = secrets.token_urlsafe(48)
        pool.refresh_tokens[refresh] = RefreshGrant(
            user.username, client.client_id, origin_jti, now, now + client.refresh_token_seconds
        )
        tokens = issue_tokens(pool, client, user, origin_jti, now, now)
        return Tokens(tokens.access_token, tokens.id_token, tokens.expires_in, refresh)

    def _refresh_auth(self, pool: UserPool, client: AppClient, auth: Mapping[str, Any]) -> Tokens:
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
            raise NotAuthorizedException("Invalid Refresh Token")
        return issue_tokens(pool, client, user, grant.origin_jti, grant.auth_time, int(self.clock()))

    # ----- the signed-in user (GetUser, GlobalSignOut) -----

    def _access_token_user(self, token: str) -> tuple[UserPool, User]:
        for pool in self.pools.values():
            try:
                claims = pool.signer.verify(token, "access")
            except TokenInvalid as exc:
                if exc.expired:
                    raise NotAuthorizedException("Access Token has expired") from exc
                continue
            user = pool.users.get(claims.get("username", ""))
            if user is None or user.sub != claims["sub"]:
                raise UserNotFoundException("User does not exist.")
            if claims.get("origin_jti") not in user.sessions:
                raise NotAuthorizedException("Access Token has been revoked")
            return pool, user
        raise NotAuthorizedException("Invalid Access Token")

    def get_user(self, access_token: str) -> User:
        return self._access_token_user(access_token)[1]

    def global_sign_out(self, access_token: str) -> None:
        """Every token of the user stops working: access tokens at user operations, refresh tokens, and ID
        tokens at an identity pool with ServerSideTokenCheck (API_GlobalSignOut.html). Credentials already
        issued by an identity pool are not tokens: they live until they expire, as on AWS."""
        pool, user = self._access_token_user(access_token)
        self.revoke_tokens(pool, user)

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
