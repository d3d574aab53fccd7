"""Signing a person in once: local users created on first use, the refresh token saved, expired ones replaced.

AWS: InitiateAuth REFRESH_TOKEN_AUTH gives new ID and access tokens for a refresh token
(https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html);
after GlobalSignOut "Amazon Cognito no longer accepts a signed-out user's refresh tokens in refresh requests"
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GlobalSignOut.html); a wrong
password is NotAuthorizedException (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html).
"""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from clients import StackNotRunningError, TokenCache, WrongPasswordError, sign_in_user
from clients.accounts import LOCAL_PASSWORD
from clients.local_app import local_config
from clients.session import cognito_idp
from clients.targets import Target, local_target, resolve_target
from localcore.testing import RunningLocalcore

Stack = tuple[RunningLocalcore, Target]


def test_local_user_is_created_on_first_use_and_signs_in_from_the_cache(
    fast: Stack, cache: TokenCache
) -> None:
    """First use signs the user up (localcore auto-confirms, like a pool with a pre-sign-up auto-confirm trigger),
    saves the refresh token (file 0600, folder 0700, keyed by app client id and user name); the next sign-in
    needs no password at all: a wrong one is never tried."""
    _, target = fast
    name = f"carol-{uuid.uuid4().hex[:8]}"
    notices: list[str] = []
    first = sign_in_user(target, name, cache=cache, notice=notices.append)
    assert notices == [f"created the local user {name}"]
    client_id = target.config.user_pool_client_id
    assert cache.refresh_token(client_id, name) == first.tokens.refresh_token
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700
    assert f"{client_id}/{name}" in json.loads(cache.path.read_text())["tokens"]
    again = sign_in_user(target, name, password="not-the-password-1A!", cache=cache)
    assert again.identity_id == first.identity_id and again.attached_policy == "iotstream-user"


def test_revoked_refresh_token_falls_back_to_the_password_with_a_notice(
    fast: Stack, cache: TokenCache
) -> None:
    """GlobalSignOut revokes the saved refresh token: the next sign-in says so in one line, signs in with the
    password and saves the new refresh token."""
    _, target = fast
    name = f"dave-{uuid.uuid4().hex[:8]}"
    session = sign_in_user(target, name, cache=cache)
    cognito_idp(target.config).global_sign_out(AccessToken=session.tokens.access_token)
    notices: list[str] = []
    again = sign_in_user(target, name, cache=cache, notice=notices.append)
    assert len(notices) == 1 and "no longer valid" in notices[0] and "signing in again" in notices[0]
    saved = cache.refresh_token(target.config.user_pool_client_id, name)
    assert saved == again.tokens.refresh_token != session.tokens.refresh_token


def test_wrong_password_of_an_existing_user(fast: Stack, cache: TokenCache) -> None:
    """An existing user with another password: NotAuthorizedException, shown as WrongPasswordError (the local
    sign-up attempt meets UsernameExistsException and creates nothing)."""
    _, target = fast
    name = f"erin-{uuid.uuid4().hex[:8]}"
    sign_in_user(target, name, password="First-Passw0rd!")
    with pytest.raises(WrongPasswordError, match="wrong user name or password"):
        sign_in_user(target, name, cache=cache)  # LOCAL_PASSWORD is not erin's
    assert sign_in_user(target, name, password="First-Passw0rd!").username == name
    assert LOCAL_PASSWORD != "First-Passw0rd!"


def test_no_stack_and_a_stale_ready_file_say_how_to_start_one(tmp_path: Path) -> None:
    """No ready file, or one whose stack is gone (nothing listens on its HTTP port): StackNotRunningError naming
    `iotstream up`."""
    with pytest.raises(StackNotRunningError, match="iotstream up"):
        resolve_target(environ={"IOTSTREAM_READY_FILE": str(tmp_path / "missing.json")})
    with RunningLocalcore(local_config()) as core:
        endpoints = core.endpoints
    stale = tmp_path / "ready.json"
    stale.write_text(json.dumps(endpoints))
    with pytest.raises(StackNotRunningError, match="does not answer"):
        local_target(stale)
