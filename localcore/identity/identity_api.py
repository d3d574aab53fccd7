"""cognito-identity's JSON 1.1 API (`AWSCognitoIdentityService.<Operation>`): GetId and
GetCredentialsForIdentity, over the `IdentityPools` backend
(https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html,
`API_GetCredentialsForIdentity.html`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcore.identity.identity_pools import IdentityPools
from localcore.identity.params import str_param

Body = dict[str, Any]


class CognitoIdentityApi:
    """The operations over one `IdentityPools` backend; `operations()` is the gateway's table."""

    def __init__(self, pools: IdentityPools) -> None:
        self.pools = pools

    def operations(self) -> dict[str, Callable[[Body], Body]]:
        return {"GetId": self.get_id, "GetCredentialsForIdentity": self.get_credentials_for_identity}

    def get_id(self, params: Body) -> Body:
        return {"IdentityId": self.pools.get_id(str_param(params, "IdentityPoolId"), params.get("Logins"))}

    def get_credentials_for_identity(self, params: Body) -> Body:
        identity_id = str_param(params, "IdentityId")
        credential = self.pools.get_credentials_for_identity(identity_id, params.get("Logins"))
        return {
            "IdentityId": identity_id,
            "Credentials": {
                "AccessKeyId": credential.access_key_id,
                "SecretKey": credential.secret_key,
                "SessionToken": credential.session_token,
                "Expiration": credential.expires_at,
            },
        }
