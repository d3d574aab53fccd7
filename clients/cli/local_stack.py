"""What `iotstream status`, `logs`, `env`, `pub` and `sub` share: the running local stack behind its ready file
(`--ready-file`, `IOTSTREAM_READY_FILE`, else `.localcore/ready.json`), and the admin's SigV4-signed requests
to its `/_localcore/...` routes (the admin key is in the ready file, mode 0600)."""

from __future__ import annotations

import argparse
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients.config import read_ready_file
from clients.errors import IotstreamClientError, StackNotRunningError
from clients.presign import AwsCredentials, sign_http_request
from clients.targets import READY_FILE_ENV, local_target, ready_file_path

LOCALCORE_SERVICE = "localcore"  # the SigV4 service name of the /_localcore routes


def add_ready_file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ready-file",
        type=Path,
        help=f"the local stack's ready file (default ${READY_FILE_ENV}, else .localcore/ready.json)",
    )


@dataclass(frozen=True)
class LocalStack:
    """A running localcore: its ready file's document (every endpoint, the admin key)."""

    ready_file: Path
    document: Mapping[str, Any]
    admin: AwsCredentials

    @property
    def http(self) -> str:
        return str(self.document["http"]).rstrip("/")

    @property
    def region(self) -> str:
        return str(self.document["region"])

    def get(self, path: str, **params: str) -> Any:
        """A signed GET of a /_localcore route, its JSON answer."""
        with self._open(path, params, timeout=10) as response:
            return json.loads(response.read())

    def stream(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        """A signed GET answered with newline-delimited JSON: each object as it arrives, until the stack ends it."""
        with self._open(path, params, timeout=None) as response:
            try:
                for line in response:
                    if line.strip():
                        yield json.loads(line)
            except (OSError, http.client.HTTPException):  # the stack went away mid-stream
                return

    def _open(self, path: str, params: Mapping[str, str], timeout: float | None) -> Any:
        url = f"{self.http}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        headers = sign_http_request("GET", url, self.admin, self.region, LOCALCORE_SERVICE)
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as error:
            raise IotstreamClientError(
                f"{url}: HTTP {error.code} {error.read()[:200].decode(errors='replace')}"
            ) from None
        except OSError as error:
            raise StackNotRunningError(f"the local stack does not answer at {self.http} ({error})") from None


def local_stack(ready_file: Path | None) -> LocalStack:
    """The stack of --ready-file (or the default), checked to be listening and to hold the admin key."""
    path = ready_file_path(ready_file)
    if not path.is_file():  # these commands read a local stack only (no --aws)
        raise StackNotRunningError(
            f"no local stack is running ({path} not found): start one with `iotstream up` in another "
            f"terminal (in this directory), or point at one with --ready-file / {READY_FILE_ENV}"
        )
    target = local_target(path)
    if target.admin is None:
        raise StackNotRunningError(
            f"{target.source} has no admin key: restart it with this version's iotstream up"
        )
    return LocalStack(target.source, read_ready_file(target.source), target.admin)
