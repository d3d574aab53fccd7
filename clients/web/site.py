"""The built pages on disk and their `config.json` (same keys for localcore and AWS; docs/web.md).

check_built()                                     # raises PagesNotBuiltError with the fix
config_from_localcore(core.endpoints)             # what `iotstream up` serves at /config.json
write_site(Path("site"), config_from_client(ClientConfig.from_cdk_outputs(path)))
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clients.config import ClientConfig
from clients.errors import IotstreamClientError

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = ("index.html", "dashboard.html")
ENTRY_SCRIPTS = ("assets/chat.js", "assets/dashboard.js")
BUILD_HINT = "run `make setup` (or `npm --prefix clients/web ci && npm --prefix clients/web run build`)"


class PagesNotBuiltError(IotstreamClientError):
    """The esbuild output is missing: the pages are built by the project's setup, not committed."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the browser pages are not built ({', '.join(missing)} missing): {BUILD_HINT}")
        self.missing = missing


def check_built(static_dir: Path = STATIC_DIR) -> None:
    missing = [name for name in (*PAGES, *ENTRY_SCRIPTS) if not (static_dir / name).is_file()]
    if missing:
        raise PagesNotBuiltError(missing)


def config_from_client(client: ClientConfig) -> dict[str, Any]:
    """config.json for the pages: `cognitoEndpoint` is null on AWS (the SDK's regional endpoints)."""
    return {
        "region": client.region,
        "userPoolId": client.user_pool_id,
        "userPoolClientId": client.user_pool_client_id,
        "identityPoolId": client.identity_pool_id,
        "mqttEndpoint": client.websocket_endpoint,
        "attachPolicyUrl": client.attach_policy_url,
        "cognitoEndpoint": client.endpoint_url,
        "dashboardShards": client.dashboard_shards,
    }


def config_from_localcore(endpoints: Mapping[str, Any]) -> dict[str, Any]:
    """config.json from localcore's endpoints (the ready file's JSON)."""
    return config_from_client(ClientConfig.from_localcore(endpoints))


def write_site(out_dir: Path, config: Mapping[str, Any], static_dir: Path = STATIC_DIR) -> list[Path]:
    """Copy the built pages to `out_dir` and write its `config.json`; returns the files written.

    The result is a complete static site: upload it as is (S3 + CloudFront, or any static host).
    """
    check_built(static_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        target = out_dir / source.relative_to(static_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    config_file = out_dir / "config.json"
    config_file.write_text(json.dumps(dict(config), indent=2) + "\n")
    written.append(config_file)
    return written
