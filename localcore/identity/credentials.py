"""Temporary and IAM-style credentials localcore issued, and who they belong to (the SigV4 resolver)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

PrincipalKind = Literal["cognito", "iam"]
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Role:
    """An IAM role: its name, ARN and the identity policy document attached to it."""

    name: str
    policy: dict[str, Any] = field(default_factory=dict)
    account: str = "000000000000"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.name}"

    @property
    def role_id(self) -> str:
        """A stable `AROA…` unique id, derived from the name (AWS assigns a random one)."""
        digest = hashlib.sha256(self.name.encode()).hexdigest().upper()
        return "AROA" + digest[:17]


@dataclass(frozen=True)
class Caller:
    """Who signed a request: a Cognito identity (with its role) or an internal IAM principal."""

    kind: PrincipalKind
    access_key_id: str
    role: Role
    identity_id: str | None = None  # `${cognito-identity.amazonaws.com:sub}`
    identity_pool_id: str | None = None
    authenticated: bool = False
    principal_name: str | None = None  # for IAM principals, e.g. the Lambda function's name

    @property
    def session_name(self) -> str:
        return (
            "CognitoIdentityCredentials" if self.kind == "cognito" else (self.principal_name or "localcore")
        )

    @property
    def user_arn(self) -> str:
        """The assumed-role ARN IAM reports for this caller (`aws:userid`'s ARN)."""
        return f"arn:aws:sts::{self.role.account}:assumed-role/{self.role.name}/{self.session_name}"

    def iam_authorizer_context(self) -> dict[str, Any]:
        """`requestContext.authorizer.iam` of a Lambda function URL event signed by this caller.

        `cognitoIdentity` is null even for Cognito callers: "Function URLs don't use this parameter. Lambda
        sets this to null or excludes this from the JSON" (lambda/latest/dg/urls-invocation.html).
        """
        user_id = f"{self.role.role_id}:{self.session_name}"
        return {
            "accessKey": self.access_key_id,
            "accountId": self.role.account,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": self.user_arn,
            "userId": user_id,
        }

    @property
    def principal_id(self) -> str:
        """Stable id for logs: the identity id for Cognito callers, `<role>/<name>` for IAM ones."""
        return self.identity_id or f"{self.role.name}/{self.principal_name or self.access_key_id}"


@dataclass(frozen=True)
class IssuedCredential:
    """One access key: what SigV4 needs (secret, token, expiry) and whose it is."""

    access_key_id: str
    secret_key: str
    session_token: str | None
    expires_at: float | None
    caller: Caller


class CredentialStore:
    """Every access key localcore minted; implements `localcore.sigv4.CredentialResolver`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._keys: dict[str, IssuedCredential] = {}

    def resolve(self, access_key_id: str) -> IssuedCredential | None:
        """The credential for a key id (expired ones too: the verifier reports `expired`), else None."""
        return self._keys.get(access_key_id)

    def valid(self, access_key_id: str) -> IssuedCredential | None:
        """The credential only if it exists and has not expired."""
        cred = self._keys.get(access_key_id)
        if cred is None or (cred.expires_at is not None and cred.expires_at <= self.clock()):
            return None
        return cred

    def mint_for_identity(
        self,
        identity_id: str,
        identity_pool_id: str,
        role: Role,
        authenticated: bool,
        ttl_seconds: int,
    ) -> IssuedCredential:
        """Temporary `ASIA…` credentials with a session token, as STS AssumeRoleWithWebIdentity gives."""
        akid = new_access_key_id("ASIA")
        caller = Caller("cognito", akid, role, identity_id, identity_pool_id, authenticated)
        token = base64.b64encode(b"localcore/" + secrets.token_bytes(96)).decode()
        cred = IssuedCredential(akid, new_secret_key(), token, self.clock() + ttl_seconds, caller)
        self._keys[akid] = cred
        self._prune()
        return cred

    def mint_iam(
        self,
        role: Role,
        principal_name: str,
        ttl_seconds: int | None = None,
        keys: tuple[str, str] | None = None,
    ) -> IssuedCredential:
        """Long-lived `AKIA…` keys for an internal principal (e.g. a Lambda execution role).

        `keys` fixes the (access key id, secret) pair, for well-known local credentials such as the admin's.
        """
        akid, secret = keys or (new_access_key_id("AKIA"), new_secret_key())
        caller = Caller("iam", akid, role, principal_name=principal_name, authenticated=True)
        expires = None if ttl_seconds is None else self.clock() + ttl_seconds
        cred = IssuedCredential(akid, secret, None, expires, caller)
        self._keys[akid] = cred
        return cred

    def revoke(self, access_key_id: str) -> None:
        self._keys.pop(access_key_id, None)

    def revoke_identity(self, identity_id: str) -> int:
        """Forget every key issued to a Cognito identity (they become unknown keys); how many there were."""
        keys = [k for k, c in self._keys.items() if c.caller.identity_id == identity_id]
        for key in keys:
            del self._keys[key]
        return len(keys)

    def _prune(self, grace_seconds: float = 3600.0) -> None:
        """Forget keys expired for over an hour (kept a while so callers see `expired`, not `unknown_key`)."""
        cutoff = self.clock() - grace_seconds
        for akid in [k for k, c in self._keys.items() if c.expires_at is not None and c.expires_at < cutoff]:
            del self._keys[akid]


def new_access_key_id(prefix: str) -> str:
    """A random access key id: `AKIA…` (long-lived) or `ASIA…` (temporary) and 16 letters or digits."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret_key() -> str:
    """A random 40-character secret access key."""
    return base64.b64encode(secrets.token_bytes(30)).decode()
