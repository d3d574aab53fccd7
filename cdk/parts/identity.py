"""Cognito: the user pool (sign-up, sign-in), its app client, the dashboard group, and the identity pool
whose roles carry the IAM half of the IoT permissions (the IoT policy is the other half)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from constructs import Construct

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"


class Identity(Construct):
    """User pool + app client + `dashboard` group + identity pool with token-based role mapping.

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
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=True,
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
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
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
        return iam.Role(
            self,
            construct_id,
            assumed_by=principal,
            inline_policies={"iotstream": iam.PolicyDocument.from_json(policy)},
        )
