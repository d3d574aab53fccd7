"""What `iotstream chat` and `iotstream dashboard` share: which stack, which user, and failing in one line.

Exit statuses (also in docs/clients.md): 0 done, 1 the service answered with an error or something else
failed, 3 sign-in refused, 4 no stack running, 5 refused by a policy, 6 timed out, 130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from clients.accounts import PASSWORD_ENV, sign_in_user
from clients.errors import (
    ClientTimeoutError,
    IotstreamClientError,
    PasswordRequiredError,
    PolicyDeniedError,
    SignInError,
    StackNotRunningError,
    WrongPasswordError,
)
from clients.session import Session
from clients.targets import AWS_OUTPUTS_ENV, READY_FILE_ENV, Target, resolve_target
from clients.token_cache import TokenCache
from clients.transport import TRANSPORTS

USER_ENV = "IOTSTREAM_USER"
EXIT_FAILED, EXIT_SIGN_IN, EXIT_NO_STACK, EXIT_DENIED, EXIT_TIMEOUT, EXIT_INTERRUPTED = 1, 3, 4, 5, 6, 130


def add_target_arguments(parser: argparse.ArgumentParser, user_help: str) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--ready-file",
        type=Path,
        help=f"the local stack's ready file (default ${READY_FILE_ENV}, else .localcore/ready.json)",
    )
    where.add_argument(
        "--aws",
        type=Path,
        metavar="CDK_OUTPUTS",
        help=f"a deployed stack: the file of `cdk deploy --outputs-file` (or ${AWS_OUTPUTS_ENV})",
    )
    parser.add_argument("--user", help=user_help)
    parser.add_argument(
        "--transport", choices=TRANSPORTS, default="mqtt5", help="MQTT client (default mqtt5)"
    )


def sign_in_from_args(
    args: argparse.Namespace, local_default: str | None, *, dashboard: bool, notice: Callable[[str], None]
) -> tuple[Target, Session]:
    """The target of --ready-file / --aws, and the user signed in (saved sign-in, else password).

    The user is --user, else (chat only) IOTSTREAM_USER, else on a local stack `local_default`.
    """
    target = resolve_target(args.ready_file, args.aws)
    from_env = None if dashboard else os.environ.get(USER_ENV)
    username = args.user or from_env or (local_default if target.local else None)
    if not username:
        raise SignInError("?", f"which user? pass --user NAME (or set {USER_ENV})")
    session = sign_in_user(
        target,
        username,
        ask_password=_ask_password if sys.stdin.isatty() else None,
        cache=TokenCache(),
        dashboard=dashboard,
        notice=notice,
    )
    return target, session


def _ask_password(username: str) -> str:
    try:
        return getpass.getpass(f"password for {username}: ")
    except EOFError:
        raise PasswordRequiredError(username, "no password given") from None


def login_name() -> str | None:
    """The OS login name: a local stack's default chat user (created on first use)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def fail(command: str, error: IotstreamClientError, target: Target | None = None) -> int:
    """Print the error as one line with its fix; return the exit status for it."""
    message = str(error)
    if isinstance(error, WrongPasswordError) and (target is None or target.local):
        message += f" (a local user keeps the password it was created with: set {PASSWORD_ENV} to it)"
    print(f"iotstream {command}: {message}", file=sys.stderr, flush=True)
    return exit_status(error)


def exit_status(error: IotstreamClientError) -> int:
    if isinstance(error, SignInError):
        return EXIT_SIGN_IN
    if isinstance(error, StackNotRunningError):
        return EXIT_NO_STACK
    if isinstance(error, PolicyDeniedError):
        return EXIT_DENIED
    if isinstance(error, ClientTimeoutError):
        return EXIT_TIMEOUT
    return EXIT_FAILED
