"""Where the clients connect: one `ClientConfig` for localcore (its ready file) or AWS (the CDK outputs).

ClientConfig.from_localcore(json.loads(Path(".localcore/ready.json").read_text()))
ClientConfig.from_cdk_outputs(Path("cdk-outputs.json"))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clients.deployment import Deployment, DeploySourceError
from clients.errors import ClientConfigError
from iotstream_lambdas.streaming.status import DEFAULT_DASHBOARD_SHARDS

_LOCALCORE_KEYS = (
    "region",
    "user_pool_id",
    "user_pool_client_id",
    "identity_pool_id",
    "ws",
    "http",
    "attach_policy_url",
)


@dataclass(frozen=True)
class ClientConfig:
    """Everything the sign-in flow and the MQTT clients need, identical in shape for localcore and AWS."""

    region: str
    user_pool_id: str
    user_pool_client_id: str
    identity_pool_id: str
    websocket_endpoint: str  # "wss://<iot-endpoint>" (AWS) or "ws://127.0.0.1:<port>" (localcore)
    attach_policy_url: str
    endpoint_url: str | None = None  # boto3 `endpoint_url` for Cognito (None: the AWS default endpoints)
    ca_file: str | None = None  # extra CA for TLS endpoints (localcore's mqtts); AWS uses the system store
    dashboard_shards: int = DEFAULT_DASHBOARD_SHARDS  # dashboards open one connection per shard

    @property
    def provider_name(self) -> str:
        """The `Logins` key of the user pool in cognito-identity calls."""
        return f"cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def tls(self) -> bool:
        return urlsplit(self.websocket_endpoint).scheme == "wss"

    @property
    def mqtt_host(self) -> str:
        return urlsplit(self.websocket_endpoint).hostname or ""

    @property
    def mqtt_port(self) -> int:
        parts = urlsplit(self.websocket_endpoint)
        return parts.port or (443 if parts.scheme == "wss" else 80)

    @classmethod
    def from_localcore(
        cls, endpoints: Mapping[str, Any], source: str = "<localcore endpoints>"
    ) -> ClientConfig:
        """From localcore's endpoints (`RunningLocalcore.endpoints`, or the `--ready-file` JSON)."""
        missing = [key for key in _LOCALCORE_KEYS if not isinstance(endpoints.get(key), str)]
        if missing:
            raise ClientConfigError(source, f"missing {missing} (is the full stack running?)")
        ws = urlsplit(str(endpoints["ws"]))
        ca = endpoints.get("ca_file")
        shards = endpoints.get("dashboard_shards", DEFAULT_DASHBOARD_SHARDS)
        if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
            raise ClientConfigError(source, f"dashboard_shards must be a positive integer, got {shards!r}")
        return cls(
            region=str(endpoints["region"]),
            user_pool_id=str(endpoints["user_pool_id"]),
            user_pool_client_id=str(endpoints["user_pool_client_id"]),
            identity_pool_id=str(endpoints["identity_pool_id"]),
            websocket_endpoint=f"{ws.scheme}://{ws.netloc}",
            attach_policy_url=str(endpoints["attach_policy_url"]),
            endpoint_url=str(endpoints["http"]),
            ca_file=str(ca) if isinstance(ca, str) else None,
            dashboard_shards=shards,
        )

    @classmethod
    def from_ready_file(cls, path: Path) -> ClientConfig:
        return cls.from_localcore(read_ready_file(path), str(path))

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> ClientConfig:
        return cls(
            region=deployment.region,
            user_pool_id=deployment.user_pool_id,
            user_pool_client_id=deployment.user_pool_client_id,
            identity_pool_id=deployment.identity_pool_id,
            websocket_endpoint=deployment.websocket_endpoint,
            attach_policy_url=deployment.attach_policy_url,
            endpoint_url=deployment.endpoint_url,
            dashboard_shards=deployment.dashboard_shards,
        )

    @classmethod
    def from_cdk_outputs(cls, path: Path, stack_name: str | None = None) -> ClientConfig:
        """From `cdk deploy --outputs-file` (see `clients/deployment.py`)."""
        try:
            deployment = Deployment.from_outputs_file(path, stack_name)
        except DeploySourceError as error:
            raise ClientConfigError(str(path), str(error)) from None
        return cls.from_deployment(deployment)


def read_ready_file(path: Path) -> dict[str, Any]:
    """The JSON object `iotstream up --ready-file` writes (every endpoint, the local admin keys)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ClientConfigError(str(path), f"cannot read the ready file ({error})") from None
    if not isinstance(document, dict):
        raise ClientConfigError(str(path), "expected a JSON object")
    return document
