"""localcore's endpoints in the `cdk deploy --outputs-file` format, so one client config (and one parity
suite) reads a real deployment and a local stack alike: `ClientConfig.from_cdk_outputs(path)`.

The keys are `clients.deployment.OUTPUT_KEYS` plus `LOCAL_OUTPUT_KEYS` (where localcore's APIs and MQTT listener
are); `IotDataEndpoint` is the WebSocket listener's `host:port`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from clients.deployment import DEFAULT_STACK_NAME, LOCAL_OUTPUT_KEYS, OUTPUT_KEYS, TOPICS


def cdk_outputs(
    endpoints: Mapping[str, Any], stack_name: str = DEFAULT_STACK_NAME
) -> dict[str, dict[str, str]]:
    """`{stack_name: {OutputKey: value}}` for a running localcore's `endpoints` (its ready-file document)."""
    ws = urlsplit(str(endpoints["ws"]))
    values = {
        "region": endpoints["region"],
        "user_pool_id": endpoints["user_pool_id"],
        "user_pool_client_id": endpoints["user_pool_client_id"],
        "identity_pool_id": endpoints["identity_pool_id"],
        "iot_data_endpoint": ws.netloc,
        "attach_policy_url": endpoints["attach_policy_url"],
        "dashboard_shards": endpoints["dashboard_shards"],
        "topics": json.dumps(TOPICS, sort_keys=True),
        "endpoint_url": endpoints["http"],
        "mqtt_endpoint": f"{ws.scheme}://{ws.netloc}",
    }
    keys = {**OUTPUT_KEYS, **LOCAL_OUTPUT_KEYS}
    return {stack_name: {key: str(values[field]) for field, key in keys.items()}}
