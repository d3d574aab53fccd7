"""Attack matrix, Cognito's protections (documented AWS behaviour, the pages cited per test): revoked tokens get
no credentials, password guessing is locked out, confirmation codes cannot be searched, unknown users are not
revealed, and a disabled or deleted user's access ends. Time moves with the identity clock, never by sleeping.
The victim keeps streaming throughout (`unaffected`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from clients.config import ClientConfig
from clients.session import (
    cognito_idp,
    confirm_sign_up,
    credentials_for,
    identity_id_for,
    sign_in,
)
from localcore.testing import RunningLocalcore
from tests.functional.security.test_attack_credentials import upgrade_status
from tests.support.identity_clock import identity_clock_shifted
from tests.support.session_support import PASSWORD, Users, paho_ws

NOT_AUTHORIZED = 0x87


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _password_sign_in(config: ClientConfig, username: str, password: str) -> tuple[str, str] | None:
    """InitiateAuth's error (code, message), or None when it signed in."""
    try:
        cognito_idp(config).initiate_auth(
            ClientId=config.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    return None


def _confirm(config: ClientConfig, username: str, code: str) -> tuple[str, str] | None:
    try:
        confirm_sign_up(config, username, code)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    return None


def test_after_global_sign_out_old_tokens_get_no_credentials_and_refresh_is_revoked(
    users: Users, client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """GlobalSignOut (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GlobalSignOut.html)
    revokes the access token ("Access Token has been revoked") and the refresh tokens, and an identity pool
    with ServerSideTokenCheck (set in cdk/parts/identity.py) refuses the signed-out user's ID token with
    400 NotAuthorizedException (https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_CognitoIdentityProvider.html):
    a thief holding the old tokens gets neither an identity nor credentials."""
    leaver = users.create("leaver")
    stolen = leaver.tokens
    cognito_idp(client_config).global_sign_out(AccessToken=stolen.access_token)
    with pytest.raises(ClientError) as credentials:
        credentials_for(client_config, leaver.identity_id, stolen)
    assert _error(credentials)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as identity:
        identity_id_for(client_config, stolen)
    assert _error(identity)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as refresh:
        leaver.refresh()
    assert _error(refresh) == ("NotAuthorizedException", "Invalid Refresh Token")
    with pytest.raises(ClientError) as user:
        cognito_idp(client_config).get_user(AccessToken=stolen.access_token)
    assert _error(user) == ("NotAuthorizedException", "Access Token has been revoked")
    unaffected()


def test_password_guessing_is_locked_out_with_exponential_back_off(
    core: RunningLocalcore, users: Users, client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """AWS: "After five failed ... sign-in attempts with a password, Amazon Cognito locks out your user for one
    second. The lockout duration then doubles after each additional one failed attempt" and "Attempts made
    during a lockout period generate a Password attempts exceeded exception"
    (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication.html#authentication-flow-lockout-behavior).
    During a lockout even the right password is refused, so guessing is throttled."""
    target = users.register("target")
    wrong = ("NotAuthorizedException", "Incorrect username or password.")
    exceeded = ("NotAuthorizedException", "Password attempts exceeded")
    for _ in range(5):
        assert _password_sign_in(client_config, target, "Guess-0000-x") == wrong
    assert _password_sign_in(client_config, target, PASSWORD) == exceeded
    with identity_clock_shifted(core, 1.5):  # the first lockout is 1 s
        assert _password_sign_in(client_config, target, "Guess-0001-x") == wrong  # 6th failure: 2 s
        assert _password_sign_in(client_config, target, PASSWORD) == exceeded
    with identity_clock_shifted(core, 4):
        assert _password_sign_in(client_config, target, PASSWORD) is None  # and the count starts again
    assert _password_sign_in(client_config, target, "Guess-0002-x") == wrong
    unaffected()


def test_unknown_users_get_the_answers_real_users_get(
    users: Users, client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """The app client has PreventUserExistenceErrors ENABLED (cdk/parts/identity.py): "authentication returns
    an error indicating either the username or password was incorrect" for an unknown name
    (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html). The
    same goes for the lockout, and ConfirmSignUp answers an unknown name as a wrong code."""
    real = users.register("real")
    ghost = f"ghost-{uuid.uuid4().hex[:10]}"
    for _ in range(5):
        assert _password_sign_in(client_config, real, "Guess-0000-x") == _password_sign_in(
            client_config, ghost, "Guess-0000-x"
        )
    assert _password_sign_in(client_config, ghost, "Guess-0000-x") == (
        "NotAuthorizedException",
        "Password attempts exceeded",
    )
    pending = users.register("pending", confirm=False)
    mismatch = ("CodeMismatchException", "Invalid verification code provided, please try again.")
    assert _confirm(client_config, pending, "000000") == _confirm(client_config, ghost, "000000") == mismatch
    unaffected()


def test_confirmation_codes_cannot_be_searched(
    core: RunningLocalcore, users: Users, client_config: ClientConfig, unaffected: Callable[[], None]
) -> None:
    """Six digits were searched in 134 s. AWS documents no count for ConfirmSignUp; for codes it documents
    "between 5 and 20 attempts" per user per hour
    (https://docs.aws.amazon.com/cognito/latest/developerguide/how-to-recover-a-user-account.html). The
    strictest reading: after 5 wrong codes, LimitExceededException for an hour, the right code included."""
    pending = users.register("pending", confirm=False)
    code = core.core.identity.user_pools.confirmation_code(client_config.user_pool_id, pending)
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert _confirm(client_config, pending, wrong) == (
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        )
    limited = ("LimitExceededException", "Attempt limit exceeded, please try after some time.")
    assert _confirm(client_config, pending, code) == limited
    with identity_clock_shifted(core, 3601):
        assert _confirm(client_config, pending, code) is None
    assert sign_in(client_config, pending, PASSWORD).identity_id
    unaffected()


@pytest.mark.parametrize("operation", ["admin_disable_user", "admin_delete_user"])
def test_a_disabled_or_deleted_users_access_ends(
    core: RunningLocalcore,
    users: Users,
    client_config: ClientConfig,
    operation: str,
    unaffected: Callable[[], None],
) -> None:
    """AdminDisableUser "deactivates a user and revokes all access tokens for the user"
    (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminDisableUser.html);
    AdminDeleteUser removes it. On AWS the identity-pool credentials already issued live until they expire;
    localcore takes the strict side: the credentials are revoked and the MQTT connections closed (MQTT 5
    DISCONNECT 0x87) at once. The old ID token gets no new credentials (ServerSideTokenCheck), and a disabled
    user cannot sign in ("User is disabled.") until AdminEnableUser."""
    username = users.register("leaving")
    member = sign_in(client_config, username, PASSWORD)
    with paho_ws(member) as connection:
        connection.connect()
        getattr(core.client("cognito-idp"), operation)(
            UserPoolId=client_config.user_pool_id, Username=username
        )
        assert connection.wait_disconnected() == NOT_AUTHORIZED
    assert upgrade_status(member.presigned_url()) == 403  # the credentials were revoked
    with pytest.raises(ClientError) as credentials:
        credentials_for(client_config, member.identity_id, member.tokens)
    assert _error(credentials)[0] == "NotAuthorizedException"
    if operation == "admin_disable_user":
        assert _password_sign_in(client_config, username, PASSWORD) == (
            "NotAuthorizedException",
            "User is disabled.",
        )
        core.client("cognito-idp").admin_enable_user(UserPoolId=client_config.user_pool_id, Username=username)
        assert sign_in(client_config, username, PASSWORD).identity_id == member.identity_id
    unaffected()


def test_a_signed_out_identitys_credentials_stay_until_they_expire_as_on_aws(
    users: Users, client_config: ClientConfig
) -> None:
    """GlobalSignOut revokes tokens, not the credentials an identity pool already issued ("Other requests might
    be valid until your user's token expires", API_GlobalSignOut.html): the session's own credentials still
    sign a WebSocket upgrade."""
    session = users.create("signed-out")
    cognito_idp(client_config).global_sign_out(AccessToken=session.tokens.access_token)
    assert upgrade_status(session.presigned_url()) == 101
