"""cognito-idp administrative user operations: create, set password, confirm, delete, add to / remove from a group.

They are IAM-authorized on the gateway (`IdentityService.mount`), as on AWS, and never send mail: an invitation
AWS would e-mail is logged instead. Request, response and error shapes follow the Amazon Cognito user pools
API reference (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html,
`API_AdminSetUserPassword`, `API_AdminDeleteUser`, `API_AdminDisableUser`, `API_AdminEnableUser`,
`API_AdminAddUserToGroup`, `API_AdminRemoveUserFromGroup`).

Disabling or deleting a user ends its access (`UserPools.end_access`): its tokens are revoked, and localcore
also revokes the identity-pool credentials issued to it and closes its MQTT connections at once. AWS revokes
the tokens only: credentials already issued live until they expire (1 h) and open connections stay; localcore
takes the strict side (docs/security.md).
"""

from __future__ import annotations

import logging
import secrets
import string
import uuid
from collections.abc import Callable
from typing import Any

from localcore.identity.errors import cognito_error, str_param
from localcore.identity.passwords import hash_password
from localcore.identity.user_pools import User, UserPool, UserPools

log = logging.getLogger(__name__)
Body = dict[str, Any]
MESSAGE_ACTIONS = ("RESEND", "SUPPRESS")


class AdminUsers:
    """The administrative operations over the user pools' state (`UserPools`)."""

    def __init__(self, pools: UserPools) -> None:
        self.pools = pools

    def admin_create_user(self, params: Body) -> Body:
        """A user in FORCE_CHANGE_PASSWORD with a temporary password (given or generated); confirmed, so an
        `AdminSetUserPassword(Permanent=True)` makes it able to sign in without any mail."""
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        username = str_param(params, "Username")
        action = params.get("MessageAction")
        if action is not None and action not in MESSAGE_ACTIONS:
            raise cognito_error(
                "InvalidParameterException", f"MessageAction must be one of {MESSAGE_ACTIONS}"
            )
        if action == "RESEND":
            return {"User": self._user_type(pool, self.pools.find_user(pool, username))}
        if username in pool.users:
            raise cognito_error("UsernameExistsException", "User account already exists")
        password = params.get("TemporaryPassword") or _temporary_password()
        problem = pool.password_policy.violation(str(password))
        if problem:
            raise cognito_error("InvalidPasswordException", problem)
        attributes = {a["Name"]: a["Value"] for a in params.get("UserAttributes") or []}
        user = User(username, str(uuid.uuid4()), hash_password(str(password)), attributes, confirmed=True)
        user.must_change_password, user.created = True, self.pools.clock()
        pool.users[username] = user
        if action != "SUPPRESS":
            log.info(
                "cognito-idp: invitation for %s/%s (not sent; localcore sends no mail)",
                pool.pool_id,
                username,
            )
        return {"User": self._user_type(pool, user)}

    def admin_set_user_password(self, params: Body) -> Body:
        """Permanent=True: CONFIRMED, signs in with this password; False: FORCE_CHANGE_PASSWORD."""
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        user = self.pools.find_user(pool, str_param(params, "Username"))
        password = str_param(params, "Password")
        problem = pool.password_policy.violation(password)
        if problem:
            raise cognito_error("InvalidPasswordException", problem)
        user.password_hash = hash_password(password)
        permanent = bool(params.get("Permanent", False))
        user.must_change_password = not permanent
        if permanent:
            user.confirmed, user.confirmation_code = True, None
        return {}

    def admin_confirm_sign_up(self, params: Body) -> Body:
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        user = self.pools.find_user(pool, str_param(params, "Username"))
        user.confirmed, user.confirmation_code = True, None
        return {}

    def admin_delete_user(self, params: Body) -> Body:
        """The user goes, and with it its access (tokens, credentials, connections)."""
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        user = self.pools.find_user(pool, str_param(params, "Username"))
        del pool.users[user.username]
        self.pools.end_access(pool, user)
        return {}

    def admin_disable_user(self, params: Body) -> Body:
        """AWS: "Deactivates a user and revokes all access tokens for the user". It cannot sign in ("User is
        disabled.") until AdminEnableUser, and its access ends (tokens, credentials, connections)."""
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        user = self.pools.find_user(pool, str_param(params, "Username"))
        user.enabled = False
        self.pools.end_access(pool, user)
        return {}

    def admin_enable_user(self, params: Body) -> Body:
        """The user may sign in again (the sessions ended by AdminDisableUser stay ended)."""
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        self.pools.find_user(pool, str_param(params, "Username")).enabled = True
        return {}

    def admin_add_user_to_group(self, params: Body) -> Body:
        _, user, group = self._membership(params)
        if group not in user.groups:
            user.groups.append(group)
        return {}

    def admin_remove_user_from_group(self, params: Body) -> Body:
        """Tokens issued from now on lack the group; tokens and credentials issued before keep it until they
        expire (as on AWS)."""
        _, user, group = self._membership(params)
        if group in user.groups:
            user.groups.remove(group)
        return {}

    def _membership(self, params: Body) -> tuple[UserPool, User, str]:
        pool = self.pools.find_pool(str_param(params, "UserPoolId"))
        user = self.pools.find_user(pool, str_param(params, "Username"))
        group = str_param(params, "GroupName")
        if group not in pool.groups:
            raise cognito_error("ResourceNotFoundException", "Group not found.")
        return pool, user, group

    @staticmethod
    def _user_type(pool: UserPool, user: User) -> Body:
        """The API's `UserType`."""
        attributes = [{"Name": "sub", "Value": user.sub}]
        attributes += [{"Name": k, "Value": v} for k, v in user.attributes.items()]
        status = "FORCE_CHANGE_PASSWORD" if user.must_change_password else "CONFIRMED"
        if not user.confirmed:
            status = "UNCONFIRMED"
        return {
            "Username": user.username,
            "Attributes": attributes,
            "UserCreateDate": user.created,
            "UserLastModifiedDate": user.created,
            "Enabled": user.enabled,
            "UserStatus": status,
        }

    def operations(self) -> dict[str, Callable[[Body], Body]]:
        """The JSON 1.1 operations, all administrative (IAM-authorized when mounted)."""
        return {
            "AdminCreateUser": self.admin_create_user,
            "AdminSetUserPassword": self.admin_set_user_password,
            "AdminConfirmSignUp": self.admin_confirm_sign_up,
            "AdminDeleteUser": self.admin_delete_user,
            "AdminDisableUser": self.admin_disable_user,
            "AdminEnableUser": self.admin_enable_user,
            "AdminAddUserToGroup": self.admin_add_user_to_group,
            "AdminRemoveUserFromGroup": self.admin_remove_user_from_group,
        }


def _temporary_password() -> str:
    """A password meeting AWS's default policy (upper, lower, digit, symbol)."""
    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    return f"Aa1!{body}"
