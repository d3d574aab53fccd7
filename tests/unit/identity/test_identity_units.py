"""Units of the identity service: password policy and hashing, JWT verification, credential store, role choice.

Password policy: https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-policies.html
Tokens: https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
"""

from __future__ import annotations

import pytest

from localcore.http import AwsServiceError
from localcore.identity import CredentialStore, PasswordPolicy, Role, UserPools
from localcore.identity.identity_api import CognitoIdentityApi
from localcore.identity.identity_pools import IdentityPool, IdentityPools
from localcore.identity.idp_api import CognitoIdpApi
from localcore.identity.passwords import check_password, hash_password
from localcore.identity.tokens import TokenInvalid, TokenSigner


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_password_hash_is_salted_and_checks() -> None:
    """Passwords are stored as salted scrypt hashes, never in clear; two hashes of one password differ."""
    first, second = hash_password("Secret-1"), hash_password("Secret-1")
    assert first != second and "Secret-1" not in first
    assert check_password("Secret-1", first) and not check_password("Secret-2", first)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Aa1!", "not long enough"),
        ("AAAAAAA1!", "lowercase"),
        ("aaaaaaa1!", "uppercase"),
        ("Aaaaaaaa!", "numeric"),
        ("Aaaaaaaa1", "symbol"),
    ],
)
def test_default_password_policy_messages(password: str, fragment: str) -> None:
    """AWS's default pool policy: length 8, upper, lower, number and symbol, each with its own message."""
    problem = PasswordPolicy().violation(password)
    assert problem is not None and fragment in problem
    assert PasswordPolicy().violation("Aaaaaaa1!") is None


def test_token_verification_checks_signature_issuer_use_audience_and_expiry() -> None:
    """A JWT is valid only with the pool's key and issuer, the right token_use and audience, before exp."""
    clock = Clock()
    signer = TokenSigner("http://local/us-east-1_x", clock)
    other = TokenSigner("http://local/us-east-1_x", clock)
    claims = {"iss": signer.issuer, "iat": 1, "exp": clock.now + 60, "token_use": "id", "aud": "client"}
    token = signer.sign(claims)
    assert signer.verify(token, "id", {"client"})["aud"] == "client"
    failures = [
        lambda: other.verify(token, "id"),
        lambda: signer.verify(token, "access"),
        lambda: signer.verify(token, "id", {"another-client"}),
        lambda: signer.verify(signer.sign({**claims, "iss": "http://elsewhere"}), "id"),
        lambda: signer.verify("not-a-jwt", "id"),
    ]
    for call in failures:
        with pytest.raises(TokenInvalid) as err:
            call()
        assert not err.value.expired
    clock.now += 60
    with pytest.raises(TokenInvalid) as err:
        signer.verify(token, "id")
    assert err.value.expired
    assert signer.jwks()["keys"][0]["kid"] == signer.kid


def test_credential_store_expiry_and_iam_keys() -> None:
    """Temporary credentials carry a session token and expire; internal IAM keys (AKIA) need no token."""
    clock = Clock()
    store = CredentialStore(clock)
    temp = store.mint_for_identity("us-east-1:a", "us-east-1:p", Role("user"), True, 3600)
    iam = store.mint_iam(Role("lambda-role"), "prompt")
    assert temp.access_key_id.startswith("ASIA") and temp.session_token
    assert iam.access_key_id.startswith("AKIA") and iam.session_token is None and iam.expires_at is None
    assert store.valid(temp.access_key_id) is temp
    clock.now += 3600
    assert store.valid(temp.access_key_id) is None and store.resolve(temp.access_key_id) is temp
    assert store.valid(iam.access_key_id) is iam and store.resolve("ASIANOPE") is None
    clock.now += 3601
    store.mint_for_identity(
        "us-east-1:b", "us-east-1:p", Role("user"), True, 3600
    )  # prunes long-expired keys
    assert store.resolve(temp.access_key_id) is None
    assert iam.caller.principal_id == "lambda-role/prompt"
    assert iam.caller.iam_authorizer_context()["cognitoIdentity"] is None


def test_group_role_follows_group_precedence() -> None:
    """`cognito:groups` lists groups by precedence; the first group with a mapped role decides the role."""
    clock = Clock()
    pools = UserPools(clock=clock)
    pool = pools.create_pool("p", pool_id="us-east-1_p", password_policy=PasswordPolicy(minimum_length=6))
    client = pools.create_client(pool, "c", "client")
    idp = CognitoIdpApi(pools)
    idp.create_group({"UserPoolId": pool.pool_id, "GroupName": "readers", "Precedence": 5})
    idp.create_group({"UserPoolId": pool.pool_id, "GroupName": "dashboard", "Precedence": 1})
    idp.sign_up({"ClientId": client.client_id, "Username": "u", "Password": "Aa1!aa"})
    idp.admin_confirm_sign_up({"UserPoolId": pool.pool_id, "Username": "u"})
    for group in ("readers", "dashboard"):
        idp.admin_add_user_to_group({"UserPoolId": pool.pool_id, "Username": "u", "GroupName": group})
    result = idp.initiate_auth(
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": "client",
            "AuthParameters": {"USERNAME": "u", "PASSWORD": "Aa1!aa"},
        }
    )["AuthenticationResult"]
    store = CredentialStore(clock)
    identity_pools = IdentityPools(pools, store, clock)
    identity = CognitoIdentityApi(identity_pools)
    readers, dashboard = Role("readers-role"), Role("dashboard-role")
    identity_pools.add_pool(
        IdentityPool(
            "us-east-1:pool",
            "p",
            Role("auth"),
            providers={pool.provider_name: {"client"}},
            group_roles={"readers": readers, "dashboard": dashboard},
        )
    )
    logins = {"Logins": {pool.provider_name: result["IdToken"]}}
    identity_id = identity.get_id({"IdentityPoolId": "us-east-1:pool", **logins})["IdentityId"]
    out = identity.get_credentials_for_identity({"IdentityId": identity_id, **logins})
    issued = store.resolve(out["Credentials"]["AccessKeyId"])
    assert issued is not None and issued.caller.role == dashboard


def test_unauthenticated_access_refused_when_the_pool_disallows_it() -> None:
    """GetId without Logins needs AllowUnauthenticatedIdentities; otherwise NotAuthorizedException."""
    pools = UserPools()
    identity_pools = IdentityPools(pools, CredentialStore())
    identity_pools.add_pool(IdentityPool("us-east-1:pool", "p", Role("auth")))
    identity = CognitoIdentityApi(identity_pools)
    with pytest.raises(AwsServiceError) as err:
        identity.get_id({"IdentityPoolId": "us-east-1:pool"})
    assert err.value.code == "NotAuthorizedException"
    with pytest.raises(AwsServiceError) as err:
        identity.get_id({})
    assert err.value.code == "InvalidParameterException"
