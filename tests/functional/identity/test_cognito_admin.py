"""cognito-idp administrative user operations over boto3: users made without any mail, group membership
changes that the next tokens (and so the next identity-pool role) follow.

API reference: https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html,
API_AdminSetUserPassword.html, API_AdminDeleteUser.html, API_AdminAddUserToGroup.html,
API_AdminRemoveUserFromGroup.html.
"""

from __future__ import annotations

import jwt
import pytest
from botocore.exceptions import ClientError

from localcore.identity import DEFAULT_CLIENT_ID, DEFAULT_USER_POOL_ID
from tests.support.cognito_stack import (
    DASHBOARD,
    PASSWORD,
    Stack,
    credentials_for,
    error_code,
    sign_in,
)

POOL = DEFAULT_USER_POOL_ID


def create(stack: Stack, username: str, **extra: object) -> dict[str, object]:
    response = stack.idp.admin_create_user(
        UserPoolId=POOL,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        MessageAction="SUPPRESS",
        **extra,
    )
    return dict(response["User"])


def test_admin_create_then_permanent_password_signs_in_without_mail(stack: Stack) -> None:
    """AdminCreateUser (MessageAction SUPPRESS) gives FORCE_CHANGE_PASSWORD: InitiateAuth answers the
    NEW_PASSWORD_REQUIRED challenge; AdminSetUserPassword(Permanent=True) makes the user CONFIRMED and able to
    sign in with that password."""
    user = create(stack, "ada", TemporaryPassword="Temp-Passw0rd!")
    assert user["Username"] == "ada" and user["UserStatus"] == "FORCE_CHANGE_PASSWORD" and user["Enabled"]
    names = {a["Name"] for a in user["Attributes"]}  # type: ignore[attr-defined]
    assert names == {"sub", "email"}
    challenge = stack.idp.initiate_auth(
        ClientId=DEFAULT_CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada", "PASSWORD": "Temp-Passw0rd!"},
    )
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and "AuthenticationResult" not in challenge
    stack.idp.admin_set_user_password(UserPoolId=POOL, Username="ada", Password=PASSWORD, Permanent=True)
    assert sign_in(stack, "ada")["IdToken"]


def test_admin_create_errors(stack: Stack) -> None:
    """UsernameExistsException for a second create; InvalidPasswordException for a weak temporary password;
    RESEND of an unknown user is UserNotFoundException."""
    create(stack, "bea")
    with pytest.raises(ClientError) as exists:
        create(stack, "bea")
    assert error_code(exists) == "UsernameExistsException"
    with pytest.raises(ClientError) as weak:
        create(stack, "cy", TemporaryPassword="short")
    assert error_code(weak) == "InvalidPasswordException"
    with pytest.raises(ClientError) as unknown:
        stack.idp.admin_create_user(UserPoolId=POOL, Username="nobody", MessageAction="RESEND")
    assert error_code(unknown) == "UserNotFoundException"


def test_removing_a_user_from_the_group_changes_the_next_tokens_and_role(stack: Stack) -> None:
    """AdminRemoveUserFromGroup: the next ID token has no `cognito:groups`, so GetCredentialsForIdentity gives
    the authenticated role again; the identity id stays the same."""
    create(stack, "dee")
    stack.idp.admin_set_user_password(UserPoolId=POOL, Username="dee", Password=PASSWORD, Permanent=True)
    stack.idp.admin_add_user_to_group(UserPoolId=POOL, Username="dee", GroupName="dashboard")
    member_id, member_creds = credentials_for(stack, sign_in(stack, "dee")["IdToken"])
    issued = stack.identity.store.resolve(member_creds["AccessKeyId"])
    assert issued is not None and issued.caller.role == DASHBOARD
    stack.idp.admin_remove_user_from_group(UserPoolId=POOL, Username="dee", GroupName="dashboard")
    token = sign_in(stack, "dee")["IdToken"]
    assert "cognito:groups" not in jwt.decode(token, options={"verify_signature": False})
    former_id, former_creds = credentials_for(stack, token)
    issued = stack.identity.store.resolve(former_creds["AccessKeyId"])
    assert (
        former_id == member_id and issued is not None and issued.caller.role.name == "iotstream-authenticated"
    )
    with pytest.raises(ClientError) as no_group:
        stack.idp.admin_remove_user_from_group(UserPoolId=POOL, Username="dee", GroupName="nope")
    assert error_code(no_group) == "ResourceNotFoundException"


def test_admin_delete_user(stack: Stack) -> None:
    """AdminDeleteUser: sign-in and refresh fail afterwards (sign-in as for a wrong password: the app client
    prevents user existence errors); a second delete is UserNotFoundException (admin APIs do tell)."""
    create(stack, "eve")
    stack.idp.admin_set_user_password(UserPoolId=POOL, Username="eve", Password=PASSWORD, Permanent=True)
    refresh = sign_in(stack, "eve")["RefreshToken"]
    stack.idp.admin_delete_user(UserPoolId=POOL, Username="eve")
    with pytest.raises(ClientError) as gone:
        sign_in(stack, "eve")
    assert error_code(gone) == "NotAuthorizedException"
    with pytest.raises(ClientError) as revoked:
        stack.idp.initiate_auth(
            ClientId=DEFAULT_CLIENT_ID,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh},
        )
    assert error_code(revoked) == "NotAuthorizedException"
    with pytest.raises(ClientError) as again:
        stack.idp.admin_delete_user(UserPoolId=POOL, Username="eve")
    assert error_code(again) == "UserNotFoundException"
