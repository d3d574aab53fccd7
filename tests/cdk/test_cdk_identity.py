"""Cognito user pool, app client, dashboard group, identity pool and its roles."""

from __future__ import annotations

from aws_cdk.assertions import Capture, Match

from cdk.sources import ROLE_POLICY_FILES


def test_user_pool_allows_self_sign_up_with_email(synth):
    """Self sign-up on, email as the username, verified by email, with a password policy
    (https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html)."""
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12, "RequireNumbers": True})},
        },
    )


def test_app_client_has_password_and_refresh_flows_and_no_secret(synth):
    """USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH allowed, no client secret: a public client
    (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow.html)."""
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "ExplicitAuthFlows": Match.array_with(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
            "GenerateSecret": False,
        },
    )


def test_app_client_has_no_oauth_grant_and_no_placeholder_callback(synth):
    """The clients sign in with USER_PASSWORD_AUTH/SRP, never through the hosted UI: no OAuth flow (in
    particular no implicit grant) and no callback URL (CDK would otherwise add https://example.com;
    https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-client-apps.html)."""
    _, client = synth.one("AWS::Cognito::UserPoolClient")
    properties = client["Properties"]
    assert properties.get("AllowedOAuthFlowsUserPoolClient", False) is False
    assert not {"AllowedOAuthFlows", "CallbackURLs", "LogoutURLs", "AllowedOAuthScopes"} & set(properties)


def test_sign_up_and_deletion_protection_are_context_choices(synth, tuned):
    """Deletion protection follows `retainData` unless `userPoolDeletionProtection` is given (ACTIVE: Cognito
    refuses DeleteUserPool); `-c selfSignUp=false` leaves sign-up to administrators (AllowAdminCreateUserOnly)."""
    _, default = synth.one("AWS::Cognito::UserPool")
    _, admin_only = tuned.one("AWS::Cognito::UserPool")
    assert default["Properties"]["DeletionProtection"] == "ACTIVE"
    assert admin_only["Properties"]["DeletionProtection"] == "INACTIVE"
    assert admin_only["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert admin_only["DeletionPolicy"] == "Delete"


def test_identity_pool_trusts_the_user_pool_client_and_has_no_guests(synth):
    """Unauthenticated identities are off; the only provider is this user pool's app client."""
    client_id, _ = synth.one("AWS::Cognito::UserPoolClient")
    pool_id, _ = synth.one("AWS::Cognito::UserPool")
    synth.template.has_resource_properties(
        "AWS::Cognito::IdentityPool",
        {
            "AllowUnauthenticatedIdentities": False,
            "CognitoIdentityProviders": [
                {
                    "ClientId": {"Ref": client_id},
                    "ProviderName": {"Fn::GetAtt": [pool_id, "ProviderName"]},
                    "ServerSideTokenCheck": True,
                }
            ],
        },
    )


def _identity_roles(synth) -> dict[str, str]:
    identity_pool_id, _ = synth.one("AWS::Cognito::IdentityPool")
    roles = {}
    for logical_id, role in synth.resources("AWS::IAM::Role").items():
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if trust[0].get("Principal", {}).get("Federated") == "cognito-identity.amazonaws.com":
            roles[logical_id] = identity_pool_id
    return roles


def test_roles_trust_only_authenticated_identities_of_this_pool(synth):
    """Trust policy: cognito-identity.amazonaws.com via AssumeRoleWithWebIdentity, aud = the identity pool,
    amr = authenticated (https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html)."""
    roles = _identity_roles(synth)
    assert len(roles) == 2
    for logical_id, identity_pool_id in roles.items():
        trust = synth.json["Resources"][logical_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": {"Ref": identity_pool_id}},
                    "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
                },
            }
        ]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _normalised(document: dict) -> list[dict]:
    """Statements with Action/Resource as sorted lists: CDK writes one-element lists as strings."""
    return [
        {**s, "Action": sorted(_as_list(s["Action"])), "Resource": sorted(_as_list(s["Resource"]))}
        for s in document["Statement"]
    ]


def test_role_policies_come_from_iot_policies_with_variables_intact(synth, source_policy):
    """The identity roles' inline policies are role-authenticated.json / role-dashboard.json (the IAM half
    of the IoT permission intersection: https://docs.aws.amazon.com/iot/latest/developerguide/cog-iot-policies.html),
    their `arn:aws:` ARNs given the stack's partition (rendered here as `aws`)."""
    inline = [
        _normalised(synth.text(role["Properties"]["Policies"][0]["PolicyDocument"]))
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if logical_id in _identity_roles(synth)
    ]
    for file_name in ROLE_POLICY_FILES.values():
        assert _normalised(source_policy(file_name)) in inline


def test_dashboard_group_maps_to_the_dashboard_role_through_the_token(synth):
    """Group role ARN + `Token` role mapping: Cognito puts cognito:preferred_role in the ID token and the
    identity pool uses it; others fall back to the authenticated role
    (https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html)."""
    group_role = Capture()
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPoolGroup",
        {"GroupName": "dashboard", "RoleArn": {"Fn::GetAtt": [group_role, "Arn"]}},
    )
    authenticated_role = Capture()
    pool_id, _ = synth.one("AWS::Cognito::UserPool")
    client_id, _ = synth.one("AWS::Cognito::UserPoolClient")
    synth.template.has_resource_properties(
        "AWS::Cognito::IdentityPoolRoleAttachment",
        {
            "Roles": {"authenticated": {"Fn::GetAtt": [authenticated_role, "Arn"]}},
            "RoleMappings": {
                "userPool": {
                    "Type": "Token",
                    "AmbiguousRoleResolution": "AuthenticatedRole",
                    "IdentityProvider": {
                        "Fn::Join": ["", [{"Fn::GetAtt": [pool_id, "ProviderName"]}, ":", {"Ref": client_id}]]
                    },
                }
            },
        },
    )
    assert group_role.as_string() != authenticated_role.as_string()
    assert {group_role.as_string(), authenticated_role.as_string()} == set(_identity_roles(synth))


def test_localcore_signs_users_up_with_the_deployed_password_policy(synth):
    """localcore's user pool enforces exactly the deployed pool's PasswordPolicy (CloudFormation
    AWS::Cognito::UserPool PasswordPolicy), so a password accepted locally is accepted on AWS."""
    from localcore.app import IOTSTREAM_PASSWORD_POLICY

    local = IOTSTREAM_PASSWORD_POLICY
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": local.minimum_length,
                        "RequireLowercase": local.require_lowercase,
                        "RequireUppercase": local.require_uppercase,
                        "RequireNumbers": local.require_numbers,
                        "RequireSymbols": local.require_symbols,
                    }
                )
            }
        },
    )
