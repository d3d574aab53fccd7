"""Cognito user pools and identity pools, the credentials they mint, and the WebSocket SigV4 check."""

from __future__ import annotations

from localcore.identity.credentials import Caller, CredentialStore, IssuedCredential, Role
from localcore.identity.handshake import SigV4HandshakeVerifier
from localcore.identity.identity_pools import IdentityPool, IdentityPools
from localcore.identity.passwords import PasswordPolicy
from localcore.identity.service import (
    DEFAULT_CLIENT_ID,
    DEFAULT_IDENTITY_POOL_ID,
    DEFAULT_USER_POOL_ID,
    IdentityConfig,
    IdentityService,
    load_role,
)
from localcore.identity.user_pools import UserPools

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_IDENTITY_POOL_ID",
    "DEFAULT_USER_POOL_ID",
    "Caller",
    "CredentialStore",
    "IdentityConfig",
    "IdentityPool",
    "IdentityPools",
    "IdentityService",
    "IssuedCredential",
    "PasswordPolicy",
    "Role",
    "SigV4HandshakeVerifier",
    "UserPools",
    "load_role",
]
