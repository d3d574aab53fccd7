"""iotstream's own stack as localcore serves it. localcore imports no application code: what iotstream's CDK
app adds around the functions (the state table; the `DashboardShards` output) is passed in from here.

    RunningLocalcore(local_config(ws_port=None))   # tests, bench and tools: free ports
    project.config(..., application=IOTSTREAM)     # `iotstream up` / `demo`
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from iotstream_lambdas.streaming.state import create_state_table
from iotstream_lambdas.streaming.status import DEFAULT_DASHBOARD_SHARDS, dashboard_shards
from localcore.app import Application, LocalcoreConfig
from localcore.testing import free_port_config


def _outputs(environments: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """`dashboard_shards`: the prompt function's DASHBOARD_SHARDS, as cdk/stack.py outputs it."""
    prompt = environments.get("prompt")
    return {"dashboard_shards": DEFAULT_DASHBOARD_SHARDS if prompt is None else dashboard_shards(prompt)}


IOTSTREAM = Application(create_tables=create_state_table, outputs=_outputs)
"""The state table (cdk/parts/state.py's schema) and the outputs the clients read from the ready file."""


def local_config(**overrides: Any) -> LocalcoreConfig:
    """iotstream's stack on free ports with state in a temporary folder (`overrides`: LocalcoreConfig fields)."""
    return dataclasses.replace(free_port_config(application=IOTSTREAM), **overrides)
