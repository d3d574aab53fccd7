"""The Cognito sign-in flow over real HTTP with boto3: user pool tokens, identity ids, credentials.

User pools: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-with-identity-providers.html
Identity pools (enhanced flow): https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError

from clients.presign import AwsCredentials, presign_mqtt_url
from localcore.broker.authorization import HandshakeRejected
from localcore.identity import (
    DEFAULT_CLIENT_ID,
    DEFAULT_IDENTITY_POOL_ID,
    DEFAULT_USER_POOL_ID,
)
from localcore.sigv4 import parse_query
from tests.support.cognito_stack import (
    DASHBOARD,
    PASSWORD,
    PROVIDER,
    UNAUTH,
    Stack,
    credentials_for,
    error_code,
    sign_in,
    sign_up_and_confirm,
)


def test_sign_up_confirm_sign_in_tokens_verify_with_jwks(stack: Stack) -> None:
    """ID and access tokens are RS256 JWTs verifiable with the pool's JWKS at `<iss>/.well-known/jwks.json`."""
    sign_up_and_confirm(stack, "alice", "alice@example.com")
    tokens = sign_in(stack, "alice")
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] == 3600
    issuer = f"{stack.gw.url}/{DEFAULT_USER_POOL_ID}"
    with urllib.request.urlopen(f"{issuer}/.well-known/jwks.json") as response:
        jwks = jwt.PyJWKSet.from_dict(json.load(response))
    kid = jwt.get_unverified_header(tokens["IdToken"])["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    opts: Any = {"verify_exp": False, "verify_iat": False}  # the test clock runs ahead of the wall clock
    id_claims = jwt.decode(
        tokens["IdToken"], key, algorithms=["RS256"], audience=DEFAULT_CLIENT_ID, issuer=issuer, options=opts
    )
    assert id_claims["token_use"] == "id" and id_claims["cognito:username"] == "alice"
    assert id_claims["email"] == "alice@example.com" and id_claims["exp"] == id_claims["iat"] + 3600
    access = jwt.decode(tokens["AccessToken"], key, algorithms=["RS256"], issuer=issuer, options=opts)
    assert access["token_use"] == "access" and access["client_id"] == DEFAULT_CLIENT_ID
    assert access["sub"] == id_claims["sub"] and access["username"] == "alice"
    user = stack.idp.get_user(AccessToken=tokens["AccessToken"])
    assert user["Username"] == "alice"
    assert {"Name": "sub", "Value": id_claims["sub"]} in user["UserAttributes"]


def test_refresh_token_auth_issues_new_tokens_and_sign_out_revokes(stack: Stack) -> None:
    """REFRESH_TOKEN_AUTH returns new id/access tokens (no new refresh token); GlobalSignOut revokes them."""
    sign_up_and_confirm(stack, "bob")
    tokens = sign_in(stack, "bob")
    stack.clock.now += 600
    refresh = {"REFRESH_TOKEN": tokens["RefreshToken"]}
    out = stack.idp.initiate_auth(
        ClientId=DEFAULT_CLIENT_ID, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh
    )
    result = out["AuthenticationResult"]
    assert "RefreshToken" not in result
    new_claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    assert new_claims["iat"] == int(stack.clock.now) and new_claims["auth_time"] < new_claims["iat"]
    stack.idp.global_sign_out(AccessToken=result["AccessToken"])
    with pytest.raises(ClientError) as err:
        stack.idp.initiate_auth(
            ClientId=DEFAULT_CLIENT_ID, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=refresh
        )
    assert error_code(err) == "NotAuthorizedException"
    with pytest.raises(ClientError) as err:
        stack.idp.get_user(AccessToken=tokens["AccessToken"])
    assert error_code(err) == "NotAuthorizedException"


def test_sign_in_errors(stack: Stack) -> None:
    """Wrong password and unknown user: the same NotAuthorizedException "Incorrect username or password." (the
    app client prevents user existence errors, https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html);
    unconfirmed (right password): UserNotConfirmedException."""
    sign_up_and_confirm(stack, "carol")
    stack.idp.sign_up(ClientId=DEFAULT_CLIENT_ID, Username="dave", Password=PASSWORD)
    cases = [
        ("carol", "Wrong-pass-1", "NotAuthorizedException"),
        ("nobody", PASSWORD, "NotAuthorizedException"),
    ]
    cases.append(("dave", PASSWORD, "UserNotConfirmedException"))
    for username, password, code in cases:
        with pytest.raises(ClientError) as err:
            sign_in(stack, username, password)
        assert error_code(err) == code
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_sign_up_errors(stack: Stack) -> None:
    """UsernameExistsException, InvalidPasswordException (pool policy), CodeMismatchException, ResourceNotFoundException."""
    sign_up_and_confirm(stack, "erin")
    attempts: list[tuple[dict[str, Any], str]] = [
        (
            {"ClientId": DEFAULT_CLIENT_ID, "Username": "erin", "Password": PASSWORD},
            "UsernameExistsException",
        ),
        (
            {"ClientId": DEFAULT_CLIENT_ID, "Username": "frank", "Password": "short"},
            "InvalidPasswordException",
        ),
        (
            {"ClientId": DEFAULT_CLIENT_ID, "Username": "frank", "Password": "nouppercase1!"},
            "InvalidPasswordException",
        ),
        (
            {"ClientId": "no-such-client", "Username": "frank", "Password": PASSWORD},
            "ResourceNotFoundException",
        ),
    ]
    for kwargs, code in attempts:
        with pytest.raises(ClientError) as err:
            stack.idp.sign_up(**kwargs)
        assert error_code(err) == code
    stack.idp.sign_up(ClientId=DEFAULT_CLIENT_ID, Username="gina", Password=PASSWORD)
    with pytest.raises(ClientError) as err:
        stack.idp.confirm_sign_up(ClientId=DEFAULT_CLIENT_ID, Username="gina", ConfirmationCode="000000x")
    assert error_code(err) == "CodeMismatchException"
    stack.idp.admin_confirm_sign_up(UserPoolId=DEFAULT_USER_POOL_ID, Username="gina")
    assert sign_in(stack, "gina")["IdToken"]


def test_expired_tokens_are_refused(stack: Stack) -> None:
    """Expired access tokens: NotAuthorizedException (GetUser); expired id tokens are invalid logins (GetId)."""
    sign_up_and_confirm(stack, "hank")
    tokens = sign_in(stack, "hank")
    stack.clock.now += 3601
    with pytest.raises(ClientError) as err:
        stack.idp.get_user(AccessToken=tokens["AccessToken"])
    assert error_code(err) == "NotAuthorizedException"
    assert "expired" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        stack.cid.get_id(IdentityPoolId=DEFAULT_IDENTITY_POOL_ID, Logins={PROVIDER: tokens["IdToken"]})
    assert error_code(err) == "NotAuthorizedException"


def test_identity_ids_are_stable_per_user_and_credentials_resolve_to_them(stack: Stack) -> None:
    """GetId maps one login to one `region:uuid`; GetCredentialsForIdentity mints keys for that identity only."""
    sign_up_and_confirm(stack, "ivy")
    sign_up_and_confirm(stack, "jack")
    ivy_1, creds = credentials_for(stack, sign_in(stack, "ivy")["IdToken"])
    ivy_2, _ = credentials_for(stack, sign_in(stack, "ivy")["IdToken"])
    jack, _ = credentials_for(stack, sign_in(stack, "jack")["IdToken"])
    assert ivy_1 == ivy_2 != jack and ivy_1.startswith("us-east-1:")
    assert set(creds) == {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"}
    assert creds["AccessKeyId"].startswith("ASIA")
    assert creds["Expiration"].timestamp() == stack.clock.now + 3600
    issued = stack.identity.store.resolve(creds["AccessKeyId"])
    assert issued is not None and issued.secret_key == creds["SecretKey"]
    assert issued.session_token == creds["SessionToken"]
    caller = issued.caller
    assert (caller.identity_id, caller.authenticated, caller.role.name) == (
        ivy_1,
        True,
        "iotstream-authenticated",
    )
    assert caller.identity_pool_id == DEFAULT_IDENTITY_POOL_ID


def test_dashboard_group_gets_the_dashboard_role(stack: Stack) -> None:
    """A `cognito:groups` rule mapping picks the group's role; other users keep the authenticated role."""
    sign_up_and_confirm(stack, "kim")
    stack.idp.admin_add_user_to_group(UserPoolId=DEFAULT_USER_POOL_ID, Username="kim", GroupName="dashboard")
    tokens = sign_in(stack, "kim")
    assert jwt.decode(tokens["IdToken"], options={"verify_signature": False})["cognito:groups"] == [
        "dashboard"
    ]
    _, creds = credentials_for(stack, tokens["IdToken"])
    issued = stack.identity.store.resolve(creds["AccessKeyId"])
    assert issued is not None and issued.caller.role == DASHBOARD


def test_unauthenticated_identities(stack: Stack) -> None:
    """Without Logins (AllowUnauthenticatedIdentities) each GetId is a new identity with the unauthenticated role."""
    first, creds = credentials_for(stack, None)
    second, _ = credentials_for(stack, None)
    assert first != second
    issued = stack.identity.store.resolve(creds["AccessKeyId"])
    assert issued is not None and issued.caller.role == UNAUTH and not issued.caller.authenticated


def _deep_token() -> str:
    """Three JWT segments whose header decodes to JSON nested 5000 arrays deep."""
    header = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).rstrip(b"=").decode()
    return f"{header}.e30.c2ln"


def _forge(token: str) -> str:
    """The same claims and kid, signed with another RSA key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(
        claims, other, algorithm="RS256", headers={"kid": jwt.get_unverified_header(token)["kid"]}
    )


def test_identity_errors(stack: Stack) -> None:
    """Unknown pool/identity: ResourceNotFoundException; a forged token or missing Logins: NotAuthorizedException."""
    sign_up_and_confirm(stack, "lee")
    token = sign_in(stack, "lee")["IdToken"]
    identity_id, _ = credentials_for(stack, token)
    forged = _forge(token)
    unknown_pool = "us-east-1:00000000-0000-0000-0000-000000000000"
    calls = [
        (lambda: stack.cid.get_id(IdentityPoolId=unknown_pool), "ResourceNotFoundException"),
        (
            lambda: stack.cid.get_credentials_for_identity(IdentityId="us-east-1:0000"),
            "ResourceNotFoundException",
        ),
        (
            lambda: stack.cid.get_id(IdentityPoolId=DEFAULT_IDENTITY_POOL_ID, Logins={PROVIDER: forged}),
            "NotAuthorizedException",
        ),
        (lambda: stack.cid.get_credentials_for_identity(IdentityId=identity_id), "NotAuthorizedException"),
        (  # a token whose header is JSON nested 5000 levels deep: refused, not a 500
            lambda: stack.cid.get_id(
                IdentityPoolId=DEFAULT_IDENTITY_POOL_ID, Logins={PROVIDER: _deep_token()}
            ),
            "NotAuthorizedException",
        ),
    ]
    for call, code in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert error_code(err) == code


def test_presigned_websocket_with_issued_credentials_until_they_expire(stack: Stack) -> None:
    """Cognito credentials last one hour; the broker's SigV4 handshake check refuses them after that (HTTP 403)."""
    identity_id, creds = credentials_for(stack, None)
    verifier = stack.identity.handshake_verifier()
    aws = AwsCredentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
    now = datetime.fromtimestamp(stack.clock.now, UTC)
    signed = presign_mqtt_url("ws://127.0.0.1:1883", aws, "us-east-1", now=now)
    query = dict(parse_query(signed.path.split("?", 1)[1]))
    caller = verifier.verify("/mqtt", query, {"Host": "127.0.0.1:1883"})
    assert (caller.identity_id, caller.identity_pool_id) == (identity_id, DEFAULT_IDENTITY_POOL_ID)
    with pytest.raises(HandshakeRejected) as err:
        verifier.verify("/mqtt", {**query, "X-Amz-Security-Token": "other"}, {"Host": "127.0.0.1:1883"})
    assert (err.value.status, err.value.reason) == (403, "token_mismatch")
    stack.clock.now += 3600
    with pytest.raises(HandshakeRejected) as err:
        verifier.verify("/mqtt", query, {"Host": "127.0.0.1:1883"})
    assert (err.value.status, err.value.reason) == (403, "expired")


def test_function_url_authorizer_context_names_the_role_but_no_cognito_identity(stack: Stack) -> None:
    """Function URLs with IAM auth report the caller's assumed-role ARN but no Cognito identity ("Lambda sets
    this to null or excludes this from the JSON", https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html):
    the attach function reads the role from `userArn` and must get the identity elsewhere (the ID token)."""
    from iotstream_lambdas.attach_policy.service import caller_role

    sign_up_and_confirm(stack, "max")
    stack.idp.admin_add_user_to_group(UserPoolId=DEFAULT_USER_POOL_ID, Username="max", GroupName="dashboard")
    _, creds = credentials_for(stack, sign_in(stack, "max")["IdToken"])
    issued = stack.identity.store.resolve(creds["AccessKeyId"])
    assert issued is not None
    context = issued.caller.iam_authorizer_context()
    assert context["cognitoIdentity"] is None and context["accessKey"] == creds["AccessKeyId"]
    assert caller_role(context["userArn"]) == DASHBOARD.name


def test_boto3_finds_localcore_through_the_endpoint_environment_variables(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's service-specific `AWS_ENDPOINT_URL_<SERVICE>` variables point unchanged code at localcore."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", stack.gw.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", stack.gw.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    stack.idp = boto3.client("cognito-idp")
    stack.cid = boto3.client("cognito-identity")
    sign_up_and_confirm(stack, "nia")
    identity_id, creds = credentials_for(stack, sign_in(stack, "nia")["IdToken"])
    assert identity_id.startswith("us-east-1:") and creds["AccessKeyId"].startswith("ASIA")


def test_malformed_json_members_get_a_clear_400(stack: Stack) -> None:
    """A member of the wrong JSON type is a 400 SerializationException, not a server failure."""
    request = urllib.request.Request(
        stack.gw.url + "/",
        data=json.dumps(
            {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": DEFAULT_CLIENT_ID, "AuthParameters": 7}
        ).encode(),
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 400 and json.load(err.value)["__type"] == "SerializationException"
