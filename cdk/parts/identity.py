"""Cognito: the user pool (sign-up, sign-in), its app client, the dashboard group, and the identity pool
whose roles carry the IAM half of the IoT permissions (the IoT policy is the other half)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk.parts.nag import acknowledge, acknowledge_wildcards
from cdk.parts.partition import partition_agnostic

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"


class Identity(Construct):
    """User pool + app client + `dashboard` group + identity pool with token-based role mapping.

    `self_sign_up` False leaves sign-up to administrators (`admin-create-user`); `deletion_protection` makes
    Cognito refuse to delete the pool (also on `cdk destroy`) until it is turned off.

    Members of the dashboard group get the dashboard role: the group carries the role ARN, Cognito puts
    it in the ID token (`cognito:roles`, `cognito:preferred_role`), and the identity pool's `Token` role
    mapping honours it. Everyone else gets the authenticated role. Unauthenticated identities are off.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        authenticated_policy: dict[str, Any],
        dashboard_policy: dict[str, Any],
        dashboard_group: str,
        retain: bool,
        self_sign_up: bool,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=self_sign_up,
            deletion_protection=deletion_protection,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=False,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        # No hosted UI: clients sign in with USER_PASSWORD_AUTH / SRP. Without `disable_o_auth` CDK would
        # enable the implicit grant with the placeholder callback https://example.com.
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            disable_o_auth=True,
        )
        self.identity_pool = cognito.CfnIdentityPool(
            self,
            "IdentityPool",
            allow_unauthenticated_identities=False,
            cognito_identity_providers=[
                cognito.CfnIdentityPool.CognitoIdentityProviderProperty(
                    client_id=self.client.user_pool_client_id,
                    provider_name=self.user_pool.user_pool_provider_name,
                    server_side_token_check=True,
                )
            ],
        )
        acknowledge(
            self.user_pool,
            "COG1",
            "12+ characters with upper, lower case and digits; symbols are not required (NIST SP 800-63B "
            "favours length over composition rules).",
        )
        acknowledge(
            self.user_pool,
            "COG2",
            "MFA is not required: the CLI and browser clients sign in with USER_PASSWORD_AUTH/SRP without an "
            "MFA step; a deployer who needs MFA enables it in Cognito and in the clients.",
        )
        acknowledge(
            self.user_pool,
            "COG8",
            "The Plus feature plan (threat protection) is billed per monthly active user; the Essentials "
            "plan keeps a first deploy free of that cost. docs/deploy.md says how to turn it on.",
        )
        self.authenticated_role = self._identity_role("AuthenticatedRole", authenticated_policy)
        self.dashboard_role = self._identity_role("DashboardRole", dashboard_policy)
        self.dashboard_group = cognito.CfnUserPoolGroup(
            self,
            "DashboardGroup",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=dashboard_group,
            description="Read-only dashboards: every response stream and dashboard/#",
            role_arn=self.dashboard_role.role_arn,
            precedence=0,
        )
        cognito.CfnIdentityPoolRoleAttachment(
            self,
            "Roles",
            identity_pool_id=self.identity_pool.ref,
            roles={"authenticated": self.authenticated_role.role_arn},
            role_mappings={
                "userPool": cognito.CfnIdentityPoolRoleAttachment.RoleMappingProperty(
                    type="Token",
                    ambiguous_role_resolution="AuthenticatedRole",
                    identity_provider=(
                        f"{self.user_pool.user_pool_provider_name}:{self.client.user_pool_client_id}"
                    ),
                )
            },
        )

    def _identity_role(self, construct_id: str, policy: dict[str, Any]) -> iam.Role:
        """A role only this pool's authenticated identities may assume, with the policy from iot_policies/."""
        principal = iam.FederatedPrincipal(
            COGNITO_IDENTITY,
            conditions={
                "StringEquals": {f"{COGNITO_IDENTITY}:aud": self.identity_pool.ref},
                "ForAnyValue:StringLike": {f"{COGNITO_IDENTITY}:amr": "authenticated"},
            },
            assume_role_action="sts:AssumeRoleWithWebIdentity",
        )
        document = partition_agnostic(policy)
        role = iam.Role(
            self,
            construct_id,
            assumed_by=principal,
            inline_policies={"iotstream": iam.PolicyDocument.from_json(document)},
        )
        acknowledge_wildcards(
            role,
            _resources(document),
            "IoT resources of iot_policies/role-*.json: IoT grants the intersection of this role policy and "
            "the IoT policy attached to the identity, which names the identity's own client ids and topics.",
        )
        return role


def _resources(document: dict[str, Any]) -> list[str]:
    """Every resource the statements of a policy document name."""
    resources: list[str] = []
    for statement in document.get("Statement", []):
        named = statement.get("Resource", [])
        resources.extend([named] if isinstance(named, str) else named)
    return resources
