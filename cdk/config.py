"""Deployment settings: where the sources live and the few knobs a deployer may turn (CDK context)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk.errors import DeploySourceError
from cdk.sources import REPO_ROOT

DEFAULT_MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"  # on-demand in most Bedrock regions
POWERTOOLS_ACCOUNT = "017000801446"  # publisher of the public Powertools for AWS Lambda layers
POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python312-x86_64"
DEFAULT_POWERTOOLS_VERSION = 27

# CDK context keys (`cdk deploy -c key=value` or cdk.json "context").
CONTEXT_KEYS = {
    "bedrock_model_id": "bedrockModelId",
    "powertools_layer_arn": "powertoolsLayerArn",
    "powertools_layer_version": "powertoolsLayerVersion",
    "name_prefix": "namePrefix",
    "retain_data": "retainData",
    "web_origins": "webOrigins",
}


@dataclass(frozen=True)
class DeployConfig:
    """Everything the stack needs besides the account and region."""

    policies_dir: Path = REPO_ROOT / "iot_policies"
    rules_dir: Path = REPO_ROOT / "iot_rules"
    lambdas_dir: Path = REPO_ROOT / "lambdas"
    name_prefix: str = "iotstream"
    bedrock_model_id: str = DEFAULT_MODEL_ID
    powertools_layer_arn: str | None = None  # None: the public layer in the stack's region
    powertools_layer_version: int = DEFAULT_POWERTOOLS_VERSION
    retain_data: bool = True  # keep the user pool and the state table on `cdk destroy`
    web_origins: tuple[str, ...] = field(default=("*",))  # CORS of the attach-policy function URL
    dashboard_group: str = "dashboard"

    @property
    def functions_manifest(self) -> Path:
        return self.lambdas_dir / "functions.json"

    def iot_policy_name(self, kind: str) -> str:
        """`iotstream-user`, `iotstream-dashboard`: the names the attach-policy function attaches."""
        return f"{self.name_prefix}-{kind}"

    def powertools_arn(self, region: str) -> str:
        if self.powertools_layer_arn:
            return self.powertools_layer_arn
        return f"arn:aws:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:{POWERTOOLS_LAYER}:{self.powertools_layer_version}"

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> DeployConfig:
        """Read overrides from CDK context (`node.try_get_context`); absent keys keep their defaults."""
        values: dict[str, Any] = {}
        for attribute, key in CONTEXT_KEYS.items():
            raw = get(key)
            if raw is None:
                continue
            values[attribute] = _coerce(key, attribute, raw)
        return cls(**values)


def _coerce(key: str, attribute: str, raw: Any) -> Any:
    if attribute == "powertools_layer_version":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise DeploySourceError(f"context {key}", "must be an integer") from None
    if attribute == "retain_data":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "false"):
            return str(raw).lower() == "true"
        raise DeploySourceError(f"context {key}", "must be true or false")
    if attribute == "web_origins":
        origins = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(origin).strip() for origin in origins if str(origin).strip())
    return str(raw)
