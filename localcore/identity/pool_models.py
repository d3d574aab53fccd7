"""The state of cognito-idp: user pools, their app clients, users, groups and refresh tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from localcore.identity.passwords import PasswordPolicy
from localcore.identity.tokens import TokenSigner


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
