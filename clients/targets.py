"""Which stack a client talks to: the running localcore (found through its ready file) or AWS (the CDK outputs).

Both give the same `ClientConfig`, so everything after this module runs the same code against either:

    target = resolve_target()                                    # .localcore/ready.json, or the env variables
    target = resolve_target(aws_outputs=Path("cdk-outputs.json"))  # a deployed stack
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from clients.config import ClientConfig, read_ready_file
from clients.errors import StackNotRunningError
from clients.presign import AwsCredentials

READY_FILE_ENV = "IOTSTREAM_READY_FILE"
AWS_OUTPUTS_ENV = "IOTSTREAM_AWS_OUTPUTS"
DEFAULT_READY_FILE = Path(".localcore") / "ready.json"
HOW_TO_START = (
    "start one with `iotstream up` in another terminal (in this directory), "
    f"or point at one with --ready-file / {READY_FILE_ENV}, or at AWS with --aws cdk-outputs.json"
)


@dataclass(frozen=True)
class Target:
    """A stack to talk to: its client configuration and what only a local stack offers."""

    config: ClientConfig
    source: Path  # the ready file or the CDK outputs file
    local: bool
    admin: AwsCredentials | None = None  # localcore's well-known admin keys (signed Cognito admin calls)
    web_url: str | None = None  # the browser pages, served on localcore's HTTP port


def ready_file_path(
    explicit: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    default: Path = DEFAULT_READY_FILE,
) -> Path:
    """--ready-file, else IOTSTREAM_READY_FILE, else .localcore/ready.json (where `iotstream up` writes it)."""
    if explicit is not None:
        return explicit
    from_env = environ.get(READY_FILE_ENV)
    return Path(from_env) if from_env else default


def resolve_target(
    ready_file: Path | None = None,
    aws_outputs: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """--aws / IOTSTREAM_AWS_OUTPUTS choose AWS; otherwise the local stack behind the ready file."""
    outputs = aws_outputs or (Path(environ[AWS_OUTPUTS_ENV]) if environ.get(AWS_OUTPUTS_ENV) else None)
    if outputs is not None and ready_file is None:
        return Target(ClientConfig.from_cdk_outputs(outputs), outputs, local=False)
    return local_target(ready_file_path(ready_file, environ))


def local_target(path: Path) -> Target:
    """The localcore described by `path`, checked to be listening (a stale ready file is no stack)."""
    if not path.is_file():
        raise StackNotRunningError(f"no local stack is running ({path} not found): {HOW_TO_START}")
    document = read_ready_file(path)
    config = ClientConfig.from_localcore(document, str(path))
    http = config.endpoint_url or ""
    if not _listening(http):
        raise StackNotRunningError(f"the local stack in {path} does not answer at {http}: {HOW_TO_START}")
    key, secret = document.get("admin_access_key_id"), document.get("admin_secret_access_key")
    admin = AwsCredentials(key, secret) if isinstance(key, str) and isinstance(secret, str) else None
    return Target(config, path, local=True, admin=admin, web_url=http.rstrip("/") + "/")


def _listening(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False
