"""Rule-action tests: rules created through the real IoT API on a running localcore, unique names, the errorAction payload."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from localcore.broker.message import Message, Publisher
from localcore.testing import RunningLocalcore

ACCOUNT = "000000000000"
REGION = "us-east-1"


IOT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def unique(prefix: str) -> str:
    """Names unique across the test session (moto's state is shared by every stack in this process)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Rules:
    """Rules, roles and messages on one running stack."""

    stack: RunningLocalcore

    def role(self, *statements: dict[str, Any], trust: dict[str, Any] = IOT_TRUST) -> str:
        """A role IoT may assume, allowed `statements` (each {"Action": ..., "Resource": ...})."""
        iam, name = self.stack.client("iam"), unique("rule-role")
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        if statements:
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}
            iam.put_role_policy(RoleName=name, PolicyName="actions", PolicyDocument=json.dumps(policy))
        return arn

    def rule(
        self, sql: str, actions: Sequence[dict[str, Any]], error_action: dict[str, Any] | None = None
    ) -> str:
        name = unique("rule").replace("-", "_")
        payload: dict[str, Any] = {"sql": sql, "awsIotSqlVersion": "2016-03-23", "actions": list(actions)}
        if error_action is not None:
            payload["errorAction"] = error_action
        self.stack.client("iot").create_topic_rule(ruleName=name, topicRulePayload=payload)
        return name

    def publish(self, topic: str, payload: bytes | dict[str, Any], client_id: str = "device-1") -> None:
        """Publish as a device would (the broker's accepted message), and wait until every rule has run."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.stack.publish(
            Message(topic=topic, payload=body, qos=1, publisher=Publisher(client_id=client_id))
        )
        self.stack.wait_rules_idle()

    def queue(self) -> tuple[str, str]:
        """A new SQS queue: (URL, ARN)."""
        name = unique("queue")
        url: str = self.stack.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"

    def messages(self, queue_url: str) -> list[str]:
        """Every message body waiting in the queue (read with boto3, as a user would)."""
        answer = self.stack.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        return [message["Body"] for message in answer.get("Messages", [])]

    def error_sink(self) -> tuple[dict[str, Any], str]:
        """An errorAction that sends AWS's error message to a new queue: (the action, the queue URL)."""
        url, arn = self.queue()
        role = self.role({"Action": "sqs:SendMessage", "Resource": arn})
        return {"sqs": {"queueUrl": url, "roleArn": role}}, url

    def errors(self, queue_url: str) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.messages(queue_url)]


def original_payload(error: dict[str, Any]) -> bytes:
    return base64.b64decode(error["base64OriginalPayload"])
