"""cognito-idp's and cognito-identity's state as snapshots (localcore/persistence/protocol.py): users with
their password hashes, groups, app clients, refresh tokens and the pools' signing keys; identities and their
logins. Issued AWS credentials are not kept: clients get new ones after a restart, as after an expiry.

A pool the configuration creates at start keeps its configured settings (password policy, auto-confirm); the
snapshot adds its users, groups, clients and tokens. A pool created through the API comes back whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from localcore.identity.identity_pools import Identity, IdentityPools
from localcore.identity.passwords import PasswordPolicy
from localcore.identity.pool_models import AppClient, Group, RefreshGrant, User, UserPool
from localcore.identity.user_pools import UserPools


def user_pools_snapshot(user_pools: UserPools) -> dict[str, Any]:
    return {"pools": [_pool_record(pool) for pool in user_pools.pools.values()]}


def restore_user_pools(user_pools: UserPools, snapshot: Mapping[str, Any]) -> None:
    for record in snapshot.get("pools", []):
        pool = user_pools.pools.get(str(record["pool_id"]))
        if pool is None:
            pool = user_pools.create_pool(
                str(record["name"]),
                pool_id=str(record["pool_id"]),
                region=str(record["region"]),
                password_policy=PasswordPolicy(**record["password_policy"]),
                auto_confirm=bool(record["auto_confirm"]),
            )
        pool.signer.import_key(str(record["kid"]), str(record["signing_key"]))
        for client in record.get("clients", []):
            pool.clients.setdefault(
                client["client_id"], AppClient(**{**client, "auth_flows": frozenset(client["auth_flows"])})
            )
        for group in record.get("groups", []):
            pool.groups.setdefault(group["name"], Group(**group))
        for user in record.get("users", []):
            pool.users.setdefault(user["username"], User(**{**user, "sessions": set(user["sessions"])}))
        for token, grant in record.get("refresh_tokens", {}).items():
            pool.refresh_tokens.setdefault(token, RefreshGrant(**grant))


def _pool_record(pool: UserPool) -> dict[str, Any]:
    kid, key = pool.signer.export_key()
    return {
        "pool_id": pool.pool_id,
        "name": pool.name,
        "region": pool.region,
        "password_policy": dataclasses.asdict(pool.password_policy),
        "auto_confirm": pool.auto_confirm,
        "kid": kid,
        "signing_key": key,
        "clients": [
            {**dataclasses.asdict(client), "auth_flows": sorted(client.auth_flows)}
            for client in pool.clients.values()
        ],
        "groups": [dataclasses.asdict(group) for group in pool.groups.values()],
        "users": [
            {**dataclasses.asdict(user), "sessions": sorted(user.sessions)} for user in pool.users.values()
        ],
        "refresh_tokens": {token: dataclasses.asdict(grant) for token, grant in pool.refresh_tokens.items()},
    }


def identities_snapshot(identity_pools: IdentityPools) -> dict[str, Any]:
    return {
        "identities": [
            {"identity_id": i.identity_id, "pool_id": i.pool_id, "login": list(i.login) if i.login else None}
            for i in identity_pools.identities.values()
        ]
    }


def restore_identities(identity_pools: IdentityPools, snapshot: Mapping[str, Any]) -> None:
    """The identities of the identity pools that exist (the configuration creates them at start)."""
    for record in snapshot.get("identities", []):
        login = record.get("login")
        identity = Identity(
            str(record["identity_id"]),
            str(record["pool_id"]),
            (str(login[0]), str(login[1])) if login else None,
        )
        if identity.pool_id in identity_pools.pools and identity.identity_id not in identity_pools.identities:
            identity_pools.add_identity(identity)
