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
from collections.abc import Mapping

from localcore.identity.exceptions import (
    InvalidParameterException,
    InvalidPasswordException,
    ResourceNotFoundException,
    UsernameExistsException,
)
from localcore.identity.passwords import hash_password
from localcore.identity.pool_models import User, UserPool
from localcore.identity.user_pools import UserPools

log = logging.getLogger(__name__)
MESSAGE_ACTIONS = ("RESEND", "SUPPRESS")


class AdminUsers:
    """The administrative operations over the user pools' state (`UserPools`)."""

    def __init__(self, pools: UserPools) -> None:
        self.pools = pools

    def admin_create_user(
        self,
        pool_id: str,
        username: str,
        *,
        temporary_password: str | None = None,
        attributes: Mapping[str, str] | None = None,
        message_action: str | None = None,
    ) -> User:
        """A user in FORCE_CHANGE_PASSWORD with a temporary password (given or generated); confirmed, so an
        `AdminSetUserPassword(Permanent=True)` makes it able to sign in without any mail. RESEND answers the
        existing user."""
        pool = self.pools.find_pool(pool_id)
        if message_action is not None and message_action not in MESSAGE_ACTIONS:
            raise InvalidParameterException(f"MessageAction must be one of {MESSAGE_ACTIONS}")
        if message_action == "RESEND":
            return self.pools.find_user(pool, username)
        if username in pool.users:
            raise UsernameExistsException("User account already exists")
        password = temporary_password or _temporary_password()
        problem = pool.password_policy.violation(password)
        if problem:
            raise InvalidPasswordException(problem)
        user = User(
            username, str(uuid.uuid4()), hash_password(password), dict(attributes or {}), confirmed=True
        )
        user.must_change_password, user.created = True, self.pools.clock()
        pool.users[username] = user
        if message_action != "SUPPRESS":
            log.info(
                "cognito-idp: invitation for %s/%s (not sent; localcore sends no mail)",
                pool.pool_id,
                username,
            )
        return user

    def admin_set_user_password(self, pool_id: str, username: str, password: str, permanent: bool) -> None:
        """Permanent: CONFIRMED, signs in with this password; otherwise FORCE_CHANGE_PASSWORD."""
        pool = self.pools.find_pool(pool_id)
        user = self.pools.find_user(pool, username)
        problem = pool.password_policy.violation(password)
        if problem:
            raise InvalidPasswordException(problem)
        user.password_hash = hash_password(password)
        user.must_change_password = not permanent
        if permanent:
            user.confirmed, user.confirmation_code = True, None

    def admin_confirm_sign_up(self, pool_id: str, username: str) -> None:
        user = self._user(pool_id, username)[1]
        user.confirmed, user.confirmation_code = True, None

    def admin_delete_user(self, pool_id: str, username: str) -> None:
        """The user goes, and with it its access (tokens, credentials, connections)."""
        pool, user = self._user(pool_id, username)
        del pool.users[user.username]
        self.pools.end_access(pool, user)

    def admin_disable_user(self, pool_id: str, username: str) -> None:
        """AWS: "Deactivates a user and revokes all access tokens for the user". It cannot sign in ("User is
        disabled.") until AdminEnableUser, and its access ends (tokens, credentials, connections)."""
        pool, user = self._user(pool_id, username)
        user.enabled = False
        self.pools.end_access(pool, user)

    def admin_enable_user(self, pool_id: str, username: str) -> None:
        """The user may sign in again (the sessions ended by AdminDisableUser stay ended)."""
        self._user(pool_id, username)[1].enabled = True

    def admin_add_user_to_group(self, pool_id: str, username: str, group: str) -> None:
        user = self._member(pool_id, username, group)
        if group not in user.groups:
            user.groups.append(group)

    def admin_remove_user_from_group(self, pool_id: str, username: str, group: str) -> None:
        """Tokens issued from now on lack the group; tokens and credentials issued before keep it until they
        expire (as on AWS)."""
        user = self._member(pool_id, username, group)
        if group in user.groups:
            user.groups.remove(group)

    def _user(self, pool_id: str, username: str) -> tuple[UserPool, User]:
        pool = self.pools.find_pool(pool_id)
        return pool, self.pools.find_user(pool, username)

    def _member(self, pool_id: str, username: str, group: str) -> User:
        pool, user = self._user(pool_id, username)
        if group not in pool.groups:
            raise ResourceNotFoundException("Group not found.")
        return user


def _temporary_password() -> str:
    """A password meeting AWS's default policy (upper, lower, digit, symbol)."""
    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    return f"Aa1!{body}"
