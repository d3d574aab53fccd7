"""Deployment settings: where the sources live and the knobs a deployer may turn (CDK context).

Every knob is one CDK context key (`cdk deploy -c key=value`, or `context` in cdk.json); docs/deploy.md lists
them with their defaults. `-c` values arrive as strings, so each key has a parser that also accepts the JSON
types cdk.json gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk.models import DEFAULT_MODEL_ID, check_model_id
from cdk.sources import REPO_ROOT
from clients.deployment import DeploySourceError

POWERTOOLS_ACCOUNT = "017000801446"  # publisher of the public Powertools for AWS Lambda layers
POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python312-x86_64"
DEFAULT_POWERTOOLS_VERSION = 27


def _text(key: str, raw: Any) -> str:
    return str(raw)


def _flag(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise DeploySourceError(f"context {key}", "must be true or false")


def _count(key: str, raw: Any) -> int:
    """A non-negative integer (0 turns a per-identity limit off)."""
    try:
        value = int(str(raw))
    except ValueError:
        raise DeploySourceError(f"context {key}", "must be a whole number") from None
    if value < 0:
        raise DeploySourceError(f"context {key}", "must be 0 or more")
    return value


def _positive(key: str, raw: Any) -> int:
    value = _count(key, raw)
    if value == 0:
        raise DeploySourceError(f"context {key}", "must be at least 1")
    return value


def _optional_positive(key: str, raw: Any) -> int | None:
    """A positive integer, or `none` / empty for "not set"."""
    return None if str(raw).strip().lower() in ("", "none") else _positive(key, raw)


def _origins(key: str, raw: Any) -> tuple[str, ...]:
    origins = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(str(origin).strip() for origin in origins if str(origin).strip())


# attribute -> (CDK context key, parser)
CONTEXT_KEYS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "bedrock_model_id": ("bedrockModelId", _text),
    "powertools_layer_arn": ("powertoolsLayerArn", _text),
    "powertools_layer_version": ("powertoolsLayerVersion", _positive),
    "name_prefix": ("namePrefix", _text),
    "retain_data": ("retainData", _flag),
    "web_origins": ("webOrigins", _origins),
    "self_sign_up": ("selfSignUp", _flag),
    "user_pool_deletion_protection": ("userPoolDeletionProtection", _flag),
    "prompt_reserved_concurrency": ("promptReservedConcurrency", _optional_positive),
    "max_tokens_per_answer": ("maxTokensPerAnswer", _positive),
    "max_streams_per_user": ("maxStreamsPerUser", _count),
    "prompts_per_minute": ("promptsPerMinute", _count),
    "prompts_per_day": ("promptsPerDay", _count),
    "iot_logging": ("iotLogging", _flag),
    "alarm_email": ("alarmEmail", _text),
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
    self_sign_up: bool = True  # False: only administrators create users (admin-create-user)
    user_pool_deletion_protection: bool | None = None  # None: follows retain_data
    prompt_reserved_concurrency: int | None = None  # None: no reservation (see docs/deploy.md, "Limits")
    max_tokens_per_answer: int = 1024  # MAX_TOKENS_CAP: no answer is longer, whatever the prompt asks
    max_streams_per_user: int = 2  # MAX_STREAMS_PER_IDENTITY (0 = no limit)
    prompts_per_minute: int = 10  # PROMPTS_PER_MINUTE (0 = no limit)
    prompts_per_day: int = 200  # PROMPTS_PER_DAY (0 = no limit)
    iot_logging: bool = True  # AWS::IoT::Logging at ERROR (one per account: turn off if it exists)
    alarm_email: str | None = None  # subscribed to the alarm topic when given

    def __post_init__(self) -> None:
        check_model_id(self.bedrock_model_id)  # an end-of-life model stops `cdk synth` with one line

    @property
    def functions_manifest(self) -> Path:
        return self.lambdas_dir / "iotstream_lambdas" / "functions.json"

    @property
    def deletion_protection(self) -> bool:
        """Cognito deletion protection: explicit, else on exactly when the data is retained."""
        if self.user_pool_deletion_protection is None:
            return self.retain_data
        return self.user_pool_deletion_protection

    def iot_policy_name(self, kind: str) -> str:
        """`iotstream-user`, `iotstream-dashboard`: the names the attach-policy function attaches."""
        return f"{self.name_prefix}-{kind}"

    def powertools_arn(self, partition: str, region: str) -> str:
        if self.powertools_layer_arn:
            return self.powertools_layer_arn
        return (
            f"arn:{partition}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:{POWERTOOLS_LAYER}"
            f":{self.powertools_layer_version}"
        )

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> DeployConfig:
        """Read overrides from CDK context (`node.try_get_context`); absent keys keep their defaults."""
        values: dict[str, Any] = {}
        for attribute, (key, parse) in CONTEXT_KEYS.items():
            raw = get(key)
            if raw is not None:
                values[attribute] = parse(key, raw)
        return cls(**values)
