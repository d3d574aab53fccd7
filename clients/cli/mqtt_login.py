"""Who `iotstream pub` and `iotstream sub` connect as, on the running local stack:

- `--as ID` (default: your login name): local mode, plain MQTT (TLS when plain is off) with username = ID; the
  project's local-mode policy decides, with `${iot:ClientId}` = the client id (default ID) and
  `${cognito-identity.amazonaws.com:sub}` = ID.
- `--user NAME`: a Cognito user signed in as `iotstream chat` signs in (created on first use on iotstream's own
  stack), over a SigV4-signed WebSocket; the policy attached to its identity decides. Client id
  `{identity id}-{--client-id or cli-xxxx}`.
- `--admin`: the local admin login (docs/localcore.md, "The admin login"): username = the admin key id,
  password = its secret, client id `localcore-admin-…`; may read and publish every topic, `$aws/events/#`
  included, and take over nobody's connection.
"""

from __future__ import annotations

import argparse
import secrets
import ssl
import sys
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from clients.accounts import sign_in_user
from clients.cli.local_stack import LocalStack, add_ready_file_argument, local_stack
from clients.cli.signed_in import login_name
from clients.errors import StackNotRunningError
from clients.mqtt_line import MqttLine
from clients.targets import local_target
from clients.token_cache import TokenCache

ADMIN_CLIENT_PREFIX = "localcore-admin"  # localcore/iot/admin_login.py allows only these client ids


def add_login_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--as",
        dest="identity",
        metavar="ID",
        help="local mode: plain MQTT, username ID (default: your login name)",
    )
    who.add_argument("--user", metavar="NAME", help="sign in as this Cognito user (SigV4 WebSocket)")
    who.add_argument(
        "--admin", action="store_true", help="the local admin login: every topic, $aws/events/# too"
    )
    parser.add_argument(
        "--client-id", help="MQTT client id (default: the identity; --admin: localcore-admin-<random>)"
    )
    add_ready_file_argument(parser)


def open_line(args: argparse.Namespace) -> tuple[MqttLine, str]:
    """A connected MqttLine for the chosen login, and its client id."""
    stack = local_stack(args.ready_file)
    if args.user:
        return _signed_in(args, stack)
    if args.admin:
        client_id = args.client_id or f"{ADMIN_CLIENT_PREFIX}-{secrets.token_hex(4)}"
        username, password = stack.admin.access_key_id, stack.admin.secret_key
    else:
        username = args.identity or login_name() or "local"
        client_id, password = args.client_id or username, None
    host, port, tls = _plain_endpoint(stack)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(username, password)
    if tls:
        client.tls_set_context(ssl.create_default_context(cafile=str(stack.document["ca_file"])))
    line = MqttLine(client, host, port)
    line.connect()
    return line, client_id


def _plain_endpoint(stack: LocalStack) -> tuple[str, int, bool]:
    for name, tls in (("mqtt", False), ("mqtts", True)):
        endpoint: Any = stack.document.get(name)
        if endpoint:
            host, _, port = str(endpoint).rpartition(":")
            return host, int(port), tls
    raise StackNotRunningError(
        f"{stack.ready_file}: the stack has no plain MQTT or TLS listener (--mqtt-port)"
    )


def _signed_in(args: argparse.Namespace, stack: LocalStack) -> tuple[MqttLine, str]:
    target = local_target(stack.ready_file)
    session = sign_in_user(
        target, args.user, cache=TokenCache(), notice=lambda text: print(text, file=sys.stderr)
    )
    suffix = args.client_id or f"cli-{secrets.token_hex(2)}"
    line = MqttLine(session.paho_client(suffix), session.config.mqtt_host, session.config.mqtt_port)
    line.connect()
    return line, session.client_id(suffix)
