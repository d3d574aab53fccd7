"""cognito-idp's JSON 1.1 API (`AWSCognitoIdentityProviderService.<Operation>`): each operation reads its
request body, calls the backend (`UserPools`, `AdminUsers`) and writes the response body AWS documents
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/, one page per operation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcore.identity.admin_users import AdminUsers
from localcore.identity.exceptions import InvalidParameterException
from localcore.identity.params import attributes, str_param
from localcore.identity.passwords import PasswordPolicy
from localcore.identity.pool_models import User, UserPool
from localcore.identity.pool_tokens import Tokens
from localcore.identity.user_pools import UserPools

Body = dict[str, Any]
Operation = Callable[[Body], Body]
PUBLIC_OPERATIONS = frozenset({"SignUp", "ConfirmSignUp", "InitiateAuth", "GetUser", "GlobalSignOut"})
"""Operations any client may call unsigned; every other one is administrative (IAM-authorized)."""


class CognitoIdpApi:
    """The operations over one `UserPools` backend; `operations()` is the gateway's table."""

    def __init__(self, pools: UserPools) -> None:
        self.pools = pools
        self.admin = AdminUsers(pools)

    def operations(self) -> dict[str, Operation]:
        return {
            "CreateUserPool": self.create_user_pool,
            "CreateUserPoolClient": self.create_user_pool_client,
            "SignUp": self.sign_up,
            "ConfirmSignUp": self.confirm_sign_up,
            "CreateGroup": self.create_group,
            "InitiateAuth": self.initiate_auth,
            "GetUser": self.get_user,
            "GlobalSignOut": self.global_sign_out,
            "AdminCreateUser": self.admin_create_user,
            "AdminSetUserPassword": self.admin_set_user_password,
            "AdminConfirmSignUp": self.admin_confirm_sign_up,
            "AdminDeleteUser": self.admin_delete_user,
            "AdminDisableUser": self.admin_disable_user,
            "AdminEnableUser": self.admin_enable_user,
            "AdminAddUserToGroup": self.admin_add_user_to_group,
            "AdminRemoveUserFromGroup": self.admin_remove_user_from_group,
        }

    # ----- pools, clients, groups -----

    def create_user_pool(self, params: Body) -> Body:
        name = str_param(params, "PoolName")
        policy_in = params.get("Policies", {}).get("PasswordPolicy", {})
        policy = PasswordPolicy(
            minimum_length=int(policy_in.get("MinimumLength", 8)),
            require_uppercase=bool(policy_in.get("RequireUppercase", True)),
            require_lowercase=bool(policy_in.get("RequireLowercase", True)),
            require_numbers=bool(policy_in.get("RequireNumbers", True)),
            require_symbols=bool(policy_in.get("RequireSymbols", True)),
        )
        pool = self.pools.create_pool(name, password_policy=policy)
        return {"UserPool": {"Id": pool.pool_id, "Name": pool.name, "Arn": _pool_arn(pool)}}

    def create_user_pool_client(self, params: Body) -> Body:
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        prevent = params.get("PreventUserExistenceErrors", "LEGACY")
        if prevent not in ("ENABLED", "LEGACY"):
            raise InvalidParameterException("PreventUserExistenceErrors must be ENABLED or LEGACY")
        flows = frozenset(params["ExplicitAuthFlows"]) if "ExplicitAuthFlows" in params else None
        client = self.pools.create_client(
            pool,
            str_param(params, "ClientName"),
            prevent_user_existence_errors=prevent == "ENABLED",
            auth_flows=flows,
        )
        out: Body = {"UserPoolId": pool.pool_id, "ClientName": client.name, "ClientId": client.client_id}
        out["ExplicitAuthFlows"] = sorted(client.auth_flows)
        out["PreventUserExistenceErrors"] = "ENABLED" if client.prevent_user_existence_errors else "LEGACY"
        return {"UserPoolClient": out}

    def create_group(self, params: Body) -> Body:
        pool_id = str_param(params, "UserPoolId")
        group = self.pools.create_group(
            pool_id,
            str_param(params, "GroupName"),
            params.get("Precedence"),
            params.get("RoleArn"),
            params.get("Description"),
        )
        return {"Group": {"GroupName": group.name, "UserPoolId": pool_id, "Precedence": group.precedence}}

    # ----- sign-up and sign-in -----

    def sign_up(self, params: Body) -> Body:
        user = self.pools.sign_up(
            str_param(params, "ClientId"),
            str_param(params, "Username"),
            str_param(params, "Password"),
            attributes(params),
        )
        out: Body = {"UserConfirmed": user.confirmed, "UserSub": user.sub}
        if not user.confirmed and "email" in user.attributes:
            out["CodeDeliveryDetails"] = {
                "Destination": _mask(user.attributes["email"]),
                "DeliveryMedium": "EMAIL",
                "AttributeName": "email",
            }
        return out

    def confirm_sign_up(self, params: Body) -> Body:
        self.pools.confirm_sign_up(
            str_param(params, "ClientId"),
            str_param(params, "Username"),
            str_param(params, "ConfirmationCode"),
        )
        return {}

    def initiate_auth(self, params: Body) -> Body:
        flow = str_param(params, "AuthFlow")
        result = self.pools.initiate_auth(
            str_param(params, "ClientId"), flow, params.get("AuthParameters") or {}
        )
        if not isinstance(result, Tokens):
            return {
                "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": result.session,
                "ChallengeParameters": {"USER_ID_FOR_SRP": result.username, "requiredAttributes": "[]"},
            }
        authentication: Body = {
            "AccessToken": result.access_token,
            "IdToken": result.id_token,
            "ExpiresIn": result.expires_in,
            "TokenType": "Bearer",
        }
        if result.refresh_token is not None:
            authentication["RefreshToken"] = result.refresh_token
        return {"ChallengeParameters": {}, "AuthenticationResult": authentication}

    def get_user(self, params: Body) -> Body:
        user = self.pools.get_user(str_param(params, "AccessToken"))
        return {"Username": user.username, "UserAttributes": _attribute_list(user)}

    def global_sign_out(self, params: Body) -> Body:
        self.pools.global_sign_out(str_param(params, "AccessToken"))
        return {}

    # ----- administrative user operations -----

    def admin_create_user(self, params: Body) -> Body:
        password = params.get("TemporaryPassword")
        user = self.admin.admin_create_user(
            str_param(params, "UserPoolId"),
            str_param(params, "Username"),
            temporary_password=str(password) if password else None,
            attributes=attributes(params),
            message_action=params.get("MessageAction"),
        )
        return {"User": _user_type(user)}

    def admin_set_user_password(self, params: Body) -> Body:
        self.admin.admin_set_user_password(
            str_param(params, "UserPoolId"),
            str_param(params, "Username"),
            str_param(params, "Password"),
            bool(params.get("Permanent", False)),
        )
        return {}

    def admin_confirm_sign_up(self, params: Body) -> Body:
        self.admin.admin_confirm_sign_up(*_pool_and_user(params))
        return {}

    def admin_delete_user(self, params: Body) -> Body:
        self.admin.admin_delete_user(*_pool_and_user(params))
        return {}

    def admin_disable_user(self, params: Body) -> Body:
        self.admin.admin_disable_user(*_pool_and_user(params))
        return {}

    def admin_enable_user(self, params: Body) -> Body:
        self.admin.admin_enable_user(*_pool_and_user(params))
        return {}

    def admin_add_user_to_group(self, params: Body) -> Body:
        self.admin.admin_add_user_to_group(*_pool_and_user(params), str_param(params, "GroupName"))
        return {}

    def admin_remove_user_from_group(self, params: Body) -> Body:
        self.admin.admin_remove_user_from_group(*_pool_and_user(params), str_param(params, "GroupName"))
        return {}


def _pool_and_user(params: Body) -> tuple[str, str]:
    return str_param(params, "UserPoolId"), str_param(params, "Username")


def _attribute_list(user: User) -> list[dict[str, str]]:
    """The user's AttributeType list: `sub` first, then its attributes."""
    return [
        {"Name": "sub", "Value": user.sub},
        *({"Name": k, "Value": v} for k, v in user.attributes.items()),
    ]


def _user_type(user: User) -> Body:
    """The API's `UserType`."""
    status = "FORCE_CHANGE_PASSWORD" if user.must_change_password else "CONFIRMED"
    if not user.confirmed:
        status = "UNCONFIRMED"
    return {
        "Username": user.username,
        "Attributes": _attribute_list(user),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.created,
        "Enabled": user.enabled,
        "UserStatus": status,
    }


def _pool_arn(pool: UserPool) -> str:
    return f"arn:aws:cognito-idp:{pool.region}:000000000000:userpool/{pool.pool_id}"


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if domain else "***"
