"""The project's Lambda functions as localcore runs them (`settings.py`) and their function URLs (`urls.py`)."""

from __future__ import annotations

from localcore.functions.settings import (
    STATE_TABLE,
    FunctionSettings,
    execution_role,
    function_configs,
    load_manifest,
)

__all__ = ["STATE_TABLE", "FunctionSettings", "execution_role", "function_configs", "load_manifest"]
