"""The project's Lambda functions as localcore runs them (`settings.py`), their manifest (`manifest.py`) and
their function URLs (`urls.py`)."""

from __future__ import annotations

from localcore.functions.manifest import ManifestError, load_manifest
from localcore.functions.settings import (
    STATE_TABLE,
    FunctionSettings,
    execution_role,
    function_configs,
)

__all__ = [
    "STATE_TABLE",
    "FunctionSettings",
    "ManifestError",
    "execution_role",
    "function_configs",
    "load_manifest",
]
