"""Sign a person in with as little asking as possible: the saved refresh token first, then a password.

    session = sign_in_user(target, "alice")        # the same call against localcore and AWS

On a local stack, `--user NAME` needs no setup: a user that does not exist yet is signed up (localcore
confirms at once) with the local password, and a dashboard user is put in the `dashboard` group with
the admin keys from the ready file (AdminAddUserToGroup, SigV4-signed). The local password is
`IOTSTREAM_PASSWORD` when set, else `LOCAL_PASSWORD`: localcore listens on 127.0.0.1 only and publishes
its admin keys in the ready file, so a secret password would protect nothing there. On AWS nobody is
created: the password comes from IOTSTREAM_PASSWORD or from asking.
"""

from __future__ import annotations

import contextlib
import os
import urllib.error
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from clients.errors import (
    IotstreamClientError,
    PasswordRequiredError,
    SignInError,
    StackNotRunningError,
    WrongPasswordError,
)
from clients.session import Session, authenticate, open_session, refresh_tokens, sign_up
from clients.targets import HOW_TO_START, Target
from clients.token_cache import TokenCache

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

PASSWORD_ENV = "IOTSTREAM_PASSWORD"
LOCAL_PASSWORD = "iotstream-Local-1"  # meets Cognito's default password policy
DASHBOARD_GROUP = "dashboard"

PasswordPrompt = Callable[[str], str]  # user name -> password (e.g. getpass); may raise to give up


def sign_in_user(
    target: Target,
    username: str,
    *,
    password: str | None = None,
    ask_password: PasswordPrompt | None = None,
    cache: TokenCache | None = None,
    dashboard: bool = False,
    notice: Callable[[str], None] = lambda line: None,
    environ: Mapping[str, str] = os.environ,
) -> Session:
    """A signed-in `Session` whose IoT policy is attached; saves the refresh token in `cache`.

    `dashboard=True` on a local stack puts a user it creates in the `dashboard` group (never an existing one:
    whether that user may read the feed is the policy's decision). `notice` receives one-line explanations
    (e.g. a saved sign-in that expired).
    """
    config = target.config
    with cognito_errors(target, username):
        cached = cache.refresh_token(config.user_pool_client_id, username) if cache else None
        if cached and cache:
            try:
                return open_session(config, username, refresh_tokens(config, cached))
            except ClientError as error:
                if _code(error) != "NotAuthorizedException":
                    raise
                cache.forget(config.user_pool_client_id, username)
                notice(
                    f"the saved sign-in of {username} is no longer valid ({_message(error)}); signing in again"
                )
        secret = _password(target, username, password, ask_password, environ)
        try:
            tokens = authenticate(config, username, secret)
        except ClientError as error:
            if _code(error) not in ("NotAuthorizedException", "UserNotFoundException"):
                raise
            if not target.local or not _create_local_user(target, username, secret, dashboard):
                raise WrongPasswordError(username, "wrong user name or password") from None
            notice(f"created the local user {username}" + (" in the dashboard group" if dashboard else ""))
            tokens = authenticate(config, username, secret)
        session = open_session(config, username, tokens)
        if cache and tokens.refresh_token:
            cache.save(config.user_pool_client_id, username, tokens.refresh_token)
        return session


def _password(
    target: Target,
    username: str,
    password: str | None,
    ask: PasswordPrompt | None,
    environ: Mapping[str, str],
) -> str:
    if password:
        return password
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if target.local:
        return LOCAL_PASSWORD
    if ask is None:
        raise PasswordRequiredError(
            username, f"no saved sign-in: set {PASSWORD_ENV} or run once in a terminal to type the password"
        )
    return ask(username)


def _create_local_user(target: Target, username: str, password: str, dashboard: bool) -> bool:
    """SignUp (+ AdminConfirmSignUp when the pool does not auto-confirm); False when the user already exists."""
    config = target.config
    try:
        result = sign_up(config, username, password, f"{username}@example.com")
    except ClientError as error:
        if _code(error) == "UsernameExistsException":
            return False
        raise
    if not result.confirmed or dashboard:
        admin = _admin_cognito(target)
        if not result.confirmed:
            admin.admin_confirm_sign_up(UserPoolId=config.user_pool_id, Username=username)
        if dashboard:
            admin.admin_add_user_to_group(
                UserPoolId=config.user_pool_id, Username=username, GroupName=DASHBOARD_GROUP
            )
    return True


def _admin_cognito(target: Target) -> CognitoIdentityProviderClient:
    """cognito-idp signed with localcore's admin keys (administrative operations need IAM, as on AWS)."""
    if target.admin is None:
        raise SignInError("admin", f"{target.source} has no admin keys to create local users with")
    config = target.config
    return boto3.client(
        "cognito-idp",
        region_name=config.region,
        endpoint_url=config.endpoint_url,
        aws_access_key_id=target.admin.access_key_id,
        aws_secret_access_key=target.admin.secret_key,
    )


@contextlib.contextmanager
def cognito_errors(target: Target, username: str) -> Iterator[None]:
    """Cognito, identity-pool and attach-policy failures as this package's errors (one clear line each)."""
    try:
        yield
    except IotstreamClientError:
        raise
    except EndpointConnectionError:
        raise StackNotRunningError(_unreachable(target)) from None
    except urllib.error.URLError as error:
        if isinstance(error, urllib.error.HTTPError):
            raise
        raise StackNotRunningError(_unreachable(target)) from None
    except ClientError as error:
        code = _code(error)
        if code == "NotAuthorizedException":
            raise WrongPasswordError(username, "wrong user name or password") from None
        if code == "UserNotConfirmedException":
            raise SignInError(username, "not confirmed yet: confirm with the code Cognito e-mailed") from None
        raise SignInError(username, f"{code}: {_message(error)}") from None
    except BotoCoreError as error:
        raise SignInError(username, str(error)) from None


def _unreachable(target: Target) -> str:
    if target.local:
        return f"the local stack in {target.source} does not answer: {HOW_TO_START}"
    return f"cannot reach the AWS endpoints of {target.source} (network?)"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
