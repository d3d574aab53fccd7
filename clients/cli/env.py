"""`iotstream env`: the shell exports that point boto3, the AWS CLI and iotstream's own commands at the running
local stack: `eval "$(iotstream env)"`.

The variables come from the ready file's `environment` (what localcore gives its own functions:
`AWS_REGION`, `AWS_ENDPOINT_URL_IOT`, `AWS_ENDPOINT_URL_IOT_DATA_PLANE`, ... and any endpoint a newer
localcore adds), the local admin's key, and `IOTSTREAM_READY_FILE` so that `iotstream status|logs|pub|sub`
find this stack from any folder. `iotstream up` prints the same lines.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clients.cli.local_stack import add_ready_file_argument, local_stack
from clients.cli.signed_in import fail
from clients.errors import IotstreamClientError
from clients.targets import READY_FILE_ENV


def export_lines(document: Mapping[str, Any], ready_file: Path | None = None) -> list[str]:
    """`export KEY=VALUE` for every variable of a ready file's document."""
    variables = dict(document.get("environment") or {})
    variables["AWS_ACCESS_KEY_ID"] = document["admin_access_key_id"]
    variables["AWS_SECRET_ACCESS_KEY"] = document["admin_secret_access_key"]
    if ready_file is not None:
        variables[READY_FILE_ENV] = str(ready_file.resolve())
    return [f"export {key}={shlex.quote(str(value))}" for key, value in variables.items()]


def configure(parser: argparse.ArgumentParser) -> None:
    add_ready_file_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        stack = local_stack(args.ready_file)
    except IotstreamClientError as error:
        return fail("env", error)
    print("\n".join(export_lines(stack.document, stack.ready_file)))
    return 0
