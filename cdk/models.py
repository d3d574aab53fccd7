"""The Bedrock model the prompt function streams from: the default, how an id is read, and the models that
reached end of life (EOL), which `cdk synth` refuses.

Default: Amazon Nova 2 Lite through its global cross-Region inference profile. Chosen because it is Active
(model card, https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-amazon-nova-2-lite.html, read
2026-12), is offered only through cross-Region inference profiles (`global.`, `us.`, `eu.`, ...), streams with
ConverseStream, and, being an Amazon model, needs neither the Anthropic first-use form nor AWS Marketplace
permissions (https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html: the automatic
Marketplace subscription and the first-use form concern third-party models). A deployer who must keep
prompts in one geography picks the geographic profile (`-c bedrockModelId=eu.amazon.nova-2-lite-v1:0`).

Nothing here imports aws_cdk: the rules are plain data, checked in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from clients.deployment import DeploySourceError

DEFAULT_MODEL_ID = "global.amazon.nova-2-lite-v1:0"

GLOBAL_PREFIX = "global."
GEOGRAPHIC_PREFIXES = ("us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "ca.")
"""Cross-Region (system-defined) inference profile ids are `<geography>.<model id>`
(https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html)."""

LIFECYCLE_PAGE = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html"


@dataclass(frozen=True)
class EndOfLife:
    """A foundation model that Bedrock no longer serves (in most Regions): requests fail with
    `ResourceNotFoundException: This model version has reached the end of its life.`"""

    model_id: str
    eol: date
    source: str


END_OF_LIFE: tuple[EndOfLife, ...] = (
    # Read 2026-12. The model cards and the lifecycle table give the Bedrock dates; where a model lingers in a
    # few Regions (Claude 3 Haiku in ca-central-1, eu-central-2, sa-east-1) we take the strict reading: refused.
    EndOfLife(
        "anthropic.claude-3-haiku-20240307-v1:0",
        date(2026, 9, 10),
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-3-haiku.html",
    ),
    EndOfLife(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        date(2026, 6, 19),
        "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-3-5-haiku.html",
    ),
    EndOfLife("anthropic.claude-3-sonnet-20240229-v1:0", date(2026, 7, 30), LIFECYCLE_PAGE),
    EndOfLife("anthropic.claude-3-7-sonnet-20250219-v1:0", date(2026, 4, 28), LIFECYCLE_PAGE),
    EndOfLife("anthropic.claude-sonnet-4-20250514-v1:0", date(2026, 10, 14), LIFECYCLE_PAGE),
    EndOfLife("amazon.nova-premier-v1:0", date(2026, 9, 14), LIFECYCLE_PAGE),
    EndOfLife("amazon.nova-sonic-v1:0", date(2026, 9, 14), LIFECYCLE_PAGE),
)

ModelKind = Literal["foundation-model", "geographic-profile", "global-profile", "arn"]


@dataclass(frozen=True)
class ModelRef:
    """A `bedrockModelId` context value, read: what kind of id it is and the foundation model behind it."""

    model_id: str
    kind: ModelKind
    foundation_model: str
    """The foundation model id (`amazon.nova-2-lite-v1:0`); for an ARN, its last path segment."""

    @classmethod
    def parse(cls, model_id: str) -> ModelRef:
        if model_id.startswith("arn:"):
            return cls(model_id, "arn", model_id.rsplit("/", 1)[-1])
        if model_id.startswith(GLOBAL_PREFIX):
            return cls(model_id, "global-profile", model_id.removeprefix(GLOBAL_PREFIX))
        for prefix in GEOGRAPHIC_PREFIXES:
            if model_id.startswith(prefix):
                return cls(model_id, "geographic-profile", model_id.removeprefix(prefix))
        return cls(model_id, "foundation-model", model_id)


def end_of_life(model_id: str) -> EndOfLife | None:
    """The EOL entry for a model id, an inference profile over it, or an ARN naming either."""
    foundation = ModelRef.parse(model_id).foundation_model
    foundation = ModelRef.parse(foundation).foundation_model  # an inference-profile ARN ends in `us.<model>`
    return next((entry for entry in END_OF_LIFE if entry.model_id == foundation), None)


def check_model_id(model_id: str) -> ModelRef:
    """The parsed id, or a one-line `DeploySourceError` when the model reached end of life."""
    if not model_id.strip():
        raise DeploySourceError("context bedrockModelId", "must not be empty")
    retired = end_of_life(model_id)
    if retired is not None:
        raise DeploySourceError(
            "context bedrockModelId",
            f"{model_id} reached end of life on {retired.eol.isoformat()} ({retired.source}); "
            f"choose an Active model, e.g. -c bedrockModelId={DEFAULT_MODEL_ID}",
        )
    return ModelRef.parse(model_id)
