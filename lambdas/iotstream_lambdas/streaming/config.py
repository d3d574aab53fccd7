"""Build the service from environment variables (used by the Lambda handlers and by localcore)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from iotstream_lambdas.streaming.admission import Admission, AdmissionLimits
from iotstream_lambdas.streaming.dashboard_feed import feed_config_from_env
from iotstream_lambdas.streaming.errors import StreamingError
from iotstream_lambdas.streaming.llm import env_number, provider_from_env
from iotstream_lambdas.streaming.publisher import PublishClient, PublisherConfig
from iotstream_lambdas.streaming.service import ServiceConfig, StreamingService
from iotstream_lambdas.streaming.state import DEFAULT_REQUEST_TTL_S, StateStore
from iotstream_lambdas.streaming.wire import DEFAULT_MAX_TEXT_BYTES

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_dynamodb import DynamoDBClient

STATE_TABLE_CLIENT = Config(
    connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}
)
"""The state table is on the first-token path and read every second while streaming: fail within seconds when
it cannot be reached (the user then gets `internal_error`), instead of botocore's legacy DynamoDB retries
(10 attempts, about 25 s of back-off) and 60 s read timeout, which would outlast a client's idle timeout."""


def service_config_from_env(env: Mapping[str, str]) -> ServiceConfig:
    """Limits and timings; every variable is optional."""
    defaults = ServiceConfig()
    publisher_defaults = PublisherConfig()
    return ServiceConfig(
        max_text_bytes=int(env_number(env, "MAX_PROMPT_BYTES", DEFAULT_MAX_TEXT_BYTES)),
        default_max_tokens=int(env_number(env, "DEFAULT_MAX_TOKENS", defaults.default_max_tokens)),
        max_tokens_cap=int(env_number(env, "MAX_TOKENS_CAP", defaults.max_tokens_cap)),
        history_turns=int(env_number(env, "HISTORY_TURNS", defaults.history_turns)),
        history_max_chars=int(env_number(env, "HISTORY_MAX_CHARS", defaults.history_max_chars)),
        system_prompt=env.get("SYSTEM_PROMPT", defaults.system_prompt),
        cancel_poll_s=env_number(env, "CANCEL_POLL_MS", defaults.cancel_poll_s * 1000) / 1000,
        timeout_margin_ms=int(env_number(env, "TIMEOUT_MARGIN_MS", defaults.timeout_margin_ms)),
        provider_idle_s=env_number(env, "PROVIDER_IDLE_TIMEOUT_MS", defaults.provider_idle_s * 1000) / 1000,
        publisher=PublisherConfig(
            max_messages_per_second=env_number(
                env, "PUBLISH_MAX_PER_SECOND", publisher_defaults.max_messages_per_second
            ),
            max_message_bytes=int(env_number(env, "PUBLISH_MAX_BYTES", publisher_defaults.max_message_bytes)),
            latency_budget_s=env_number(
                env, "PUBLISH_LATENCY_BUDGET_MS", publisher_defaults.latency_budget_s * 1000
            )
            / 1000,
            max_batch_tokens=int(
                env_number(env, "PUBLISH_MAX_BATCH_TOKENS", publisher_defaults.max_batch_tokens)
            ),
            start_hold_s=env_number(env, "PUBLISH_START_HOLD_MS", publisher_defaults.start_hold_s * 1000)
            / 1000,
        ),
        feed=feed_config_from_env(env),
    )


def service_from_env(
    env: Mapping[str, str] | None = None,
    *,
    logger: Logger | None = None,
    iot: PublishClient | None = None,
    dynamodb: DynamoDBClient | None = None,
    bedrock: BedrockRuntimeClient | None = None,
) -> StreamingService:
    """The service with boto3 clients built from the environment (endpoints from `AWS_ENDPOINT_URL_*`).

    `STATE_TABLE` is required. Optional `IOT_DATA_ENDPOINT` overrides the iot-data endpoint
    (in AWS: the account's `iot:Data-ATS` endpoint as `https://...`). A client passed in (`iot`,
    `dynamodb`, `bedrock`) is used instead of a new boto3 one. The per-identity limits come from `PROMPT_MAX_AGE_MS`,
    `MAX_STREAMS_PER_IDENTITY`, `PROMPTS_PER_MINUTE`, `PROMPTS_PER_DAY` (`iotstream_lambdas.streaming.admission`).
    """
    env = os.environ if env is None else env
    table = env.get("STATE_TABLE")
    if not table:
        raise StreamingError("bad_config", "environment variable STATE_TABLE is required")
    if iot is None:
        endpoint = env.get("IOT_DATA_ENDPOINT") or None
        if endpoint and "://" not in endpoint:  # CDK passes the bare iot:Data-ATS host name
            endpoint = f"https://{endpoint}"
        iot = boto3.client("iot-data", endpoint_url=endpoint)
    dynamodb = dynamodb or boto3.client("dynamodb", config=STATE_TABLE_CLIENT)
    provider = provider_from_env(env, bedrock_client=bedrock)
    admission = Admission(dynamodb, table, AdmissionLimits.from_env(env))
    return StreamingService(
        iot,
        StateStore(
            dynamodb, table, request_ttl_s=int(env_number(env, "REQUEST_TTL_S", DEFAULT_REQUEST_TTL_S))
        ),
        provider,
        service_config_from_env(env),
        admission=admission,
        logger=logger,
    )
