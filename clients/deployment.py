"""The deployment's outputs, as `cdk deploy --outputs-file cdk-outputs.json` writes them, for the clients.

The file maps stack name to `{OutputKey: value}`: `Deployment.from_outputs_file(Path("cdk-outputs.json"))`.
The reader owns this contract; the CDK app (cdk/stack.py, not installed) imports it to write the outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DeploySourceError(ValueError):
    """A deployment source is missing or malformed: the outputs file here, or (in the CDK app) a file the
    stack is built from (policies, rules, functions manifest)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


DEFAULT_STACK_NAME = "IotStream"

# CfnOutput keys: one name per value, shared by the stack (writer) and the clients (reader).
OUTPUT_KEYS = {
    "region": "Region",
    "user_pool_id": "UserPoolId",
    "user_pool_client_id": "UserPoolClientId",
    "identity_pool_id": "IdentityPoolId",
    "iot_data_endpoint": "IotDataEndpoint",
    "attach_policy_url": "AttachPolicyUrl",
    "dashboard_shards": "DashboardShards",
    "topics": "Topics",
}

# Outputs only localcore writes (`iotstream up`, clients/cli/outputs.py): where its AWS APIs and its MQTT
# WebSocket listener are. Absent from a real deployment's file, where the AWS defaults apply.
LOCAL_OUTPUT_KEYS = {
    "endpoint_url": "LocalcoreEndpoint",  # boto3 endpoint_url for Cognito, IoT, ... (http://127.0.0.1:port)
    "mqtt_endpoint": "MqttEndpoint",  # ws://127.0.0.1:port (AWS: wss://<IotDataEndpoint>)
}

# Topic templates, `{identityId}` being the caller's Cognito identity id (docs/architecture.md, "Topics").
TOPICS = {
    "prompt": "chat/{identityId}/prompt",
    "cancel": "chat/{identityId}/cancel",
    "response": "chat/{identityId}/response/{requestId}",
    "responseFilter": "chat/{identityId}/response/+",
    "dashboardResponses": "chat/+/response/+",
    "dashboardStreams": "dashboard/streams/{shard}",
    "dashboard": "dashboard/#",
}


@dataclass(frozen=True)
class Deployment:
    """Where a deployed iotstream lives: what the Python and browser clients need to connect."""

    region: str
    user_pool_id: str
    user_pool_client_id: str
    identity_pool_id: str
    iot_data_endpoint: str  # host name, e.g. xxxx-ats.iot.eu-west-1.amazonaws.com
    attach_policy_url: str
    dashboard_shards: int  # the dashboard feed's shard count: one connection per shard (docs/protocol.md)
    topics: dict[str, str]
    endpoint_url: str | None = None  # localcore only (LOCAL_OUTPUT_KEYS)
    mqtt_endpoint: str | None = None  # localcore only

    @property
    def websocket_endpoint(self) -> str:
        """Where MQTT over WebSockets connects: `wss://<IotDataEndpoint>` on AWS."""
        return self.mqtt_endpoint or f"wss://{self.iot_data_endpoint}"

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any], source: str = "<outputs>") -> Deployment:
        missing = [key for key in OUTPUT_KEYS.values() if not isinstance(outputs.get(key), str)]
        if missing:
            raise DeploySourceError(source, f"missing outputs {missing}")
        try:
            topics = json.loads(outputs[OUTPUT_KEYS["topics"]])
        except json.JSONDecodeError as error:
            raise DeploySourceError(source, f"output Topics is not JSON ({error})") from None
        shards = outputs[OUTPUT_KEYS["dashboard_shards"]]
        if not shards.isdigit() or int(shards) < 1:
            raise DeploySourceError(source, f"output DashboardShards is not a positive integer ({shards!r})")
        skip = {"topics", "dashboard_shards"}
        values = {field: outputs[key] for field, key in OUTPUT_KEYS.items() if field not in skip}
        local = {field: str(outputs[key]) for field, key in LOCAL_OUTPUT_KEYS.items() if outputs.get(key)}
        return cls(topics=topics, dashboard_shards=int(shards), **values, **local)

    @classmethod
    def from_outputs_file(cls, path: Path, stack_name: str | None = None) -> Deployment:
        """Read `cdk-outputs.json`; `stack_name` may be omitted when the file holds one stack."""
        try:
            document = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError) as error:
            raise DeploySourceError(str(path), f"cannot read outputs ({error})") from None
        if not isinstance(document, dict) or not document:
            raise DeploySourceError(str(path), "expected {stackName: {OutputKey: value}}")
        if stack_name is None:
            if len(document) != 1:
                raise DeploySourceError(str(path), f"several stacks {sorted(document)}; name one")
            stack_name = next(iter(document))
        if not isinstance(document.get(stack_name), dict):
            raise DeploySourceError(str(path), f"no stack {stack_name!r}")
        return cls.from_outputs(document[stack_name], f"{path}:{stack_name}")
