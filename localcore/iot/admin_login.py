"""The local admin's MQTT login, for watching everything: `iotstream sub --admin '#'` and MQTT Explorer.

Plain MQTT or MQTT over TLS with username = the admin's access key id and password = its secret access key
(both in `<state-dir>/admin-credentials.json` and the ready file, mode 0600). The login gets `ADMIN_POLICY`:
it may connect only with a client id starting `localcore-admin` (so it can take over no device's or user's
connection: AWS disconnects the older of two connections with one client id), subscribe to and receive every
topic (`#`, `$aws/events/#`), and publish anywhere, which the admin key can already do through iot-data
Publish. It gives nothing the admin key does not have on the HTTP APIs. A wrong password is refused (CONNACK
0x86), never treated as a local-mode identity of that name.

`iotstream up --admin-mqtt` (development only) is different: it accepts the admin key on the SigV4 WebSocket
with no restriction at all.
"""

from __future__ import annotations

import hmac

from iot_policies.document import parse_policy
from iot_policies.evaluator import RequestContext
from localcore.broker.authorization import Authority, ConnectRefused, ConnectRequest
from localcore.broker.local_auth import PolicyAuthority
from localcore.broker.reasons import RC

ADMIN_CLIENT_PREFIX = "localcore-admin"
ADMIN_PRINCIPAL = "localcore-admin"
ADMIN_POLICY = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": f"arn:aws:iot:*:*:client/{ADMIN_CLIENT_PREFIX}*",
            },
            {
                "Effect": "Allow",
                "Action": ["iot:Subscribe", "iot:Receive", "iot:Publish", "iot:RetainPublish"],
                "Resource": "*",
            },
        ],
    },
    name="localcore-admin-login",
)


def admin_login(request: ConnectRequest, access_key_id: str, secret: str) -> Authority | None:
    """The admin login's authority when `request` is one (None: another kind of connection)."""
    if request.username != access_key_id or request.transport not in ("tcp", "tls"):
        return None
    if not hmac.compare_digest(request.password or b"", secret.encode()):
        raise ConnectRefused(
            RC.BAD_USERNAME_OR_PASSWORD, "admin login: wrong password (the secret access key)"
        )
    context = RequestContext.for_identity(ADMIN_PRINCIPAL, request.client_id, request.source_ip)
    return PolicyAuthority(ADMIN_PRINCIPAL, (ADMIN_POLICY,), request.policy_context(context))
