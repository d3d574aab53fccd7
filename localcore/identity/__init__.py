"""Cognito, moto-shaped: user pools and identity pools as typed backends (`user_pools.py`, `admin_users.py`,
`identity_pools.py`), their JSON APIs (`idp_api.py`, `identity_api.py`), one error class per AWS code
(`exceptions.py`); the credentials they mint (`credentials.py`) and the WebSocket SigV4 check (`handshake.py`)."""

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
