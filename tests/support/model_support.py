"""The real embedded model's tests run in `make test`: a missing llama-cpp-python fails them loudly."""

from __future__ import annotations

import importlib.util
import os

import pytest


def require_llama_cpp() -> None:
    """Fail (not skip) when llama_cpp is missing, unless IOTSTREAM_SKIP_MODEL_TESTS=1 says to skip."""
    if importlib.util.find_spec("llama_cpp") is not None:
        return
    if os.environ.get("IOTSTREAM_SKIP_MODEL_TESTS") == "1":
        pytest.skip(
            "llama-cpp-python is not installed (IOTSTREAM_SKIP_MODEL_TESTS=1)", allow_module_level=True
        )
    pytest.fail("llama-cpp-python is not installed: run `make setup` (or set IOTSTREAM_SKIP_MODEL_TESTS=1)")
