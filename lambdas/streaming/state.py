"""Stream state in one DynamoDB table (`STATE_TABLE`): request claims, cancel flags, conversation history.

Keys (string `pk`, string `sk`):

| item | pk | sk |
|---|---|---|
| request claim (idempotency per rid) | `REQ#{identity_id}#{rid}` | `REQ` |
| cancel flag | `REQ#{identity_id}#{rid}` | `CANCEL` |
| conversation turn | `CONV#{identity_id}#{conversation}` | `TURN#{epoch ms, 13 digits}#{rid}` |

Every item carries `expires_at` (epoch seconds) for DynamoDB TTL. The identity is part of every
key, so one user can neither block nor read another user's requests or history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from streaming.llm.base import Message

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_REQUEST_TTL_S = 24 * 3600
DEFAULT_HISTORY_TTL_S = 30 * 24 * 3600


def create_state_table(client: DynamoDBClient, name: str) -> None:
    """Create the state table (on-demand, TTL on `expires_at`) and wait until it is active; idempotent."""
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if exc.response["Error"].get("Code") != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored exchange of a conversation."""

    user: str
    assistant: str


@dataclass
class StateStore:
    """Typed access to the state table through an injected boto3 DynamoDB client."""

    client: DynamoDBClient
    table: str
    wall_clock: Callable[[], float] = time.time
    request_ttl_s: int = DEFAULT_REQUEST_TTL_S
    history_ttl_s: int = DEFAULT_HISTORY_TTL_S

    @staticmethod
    def _request_pk(identity_id: str, rid: str) -> dict[str, Any]:
        return {"S": f"REQ#{identity_id}#{rid}"}

    def claim_request(self, identity_id: str, rid: str) -> bool:
        """Conditionally record that `rid` is being answered. False when it was claimed before (a retry)."""
        now = self.wall_clock()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": self._request_pk(identity_id, rid),
                    "sk": {"S": "REQ"},
                    "status": {"S": "streaming"},
                    "created_at": {"N": str(int(now))},
                    "expires_at": {"N": str(int(now) + self.request_ttl_s)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"].get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def finish_request(self, identity_id: str, rid: str, outcome: str) -> None:
        """Record how the request ended (`end_turn`, `cancelled`, `error:<code>`, ...)."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": self._request_pk(identity_id, rid), "sk": {"S": "REQ"}},
            UpdateExpression="SET #s = :s, finished_at = :t",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": outcome}, ":t": {"N": str(int(self.wall_clock()))}},
        )

    def request_status(self, identity_id: str, rid: str) -> str | None:
        """The recorded status of a request, or None when it was never claimed."""
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": self._request_pk(identity_id, rid), "sk": {"S": "REQ"}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else item["status"]["S"]

    def set_cancelled(self, identity_id: str, rid: str) -> None:
        """Flag `rid` as cancelled (works before, during or after its stream; expires with TTL)."""
        now = int(self.wall_clock())
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": self._request_pk(identity_id, rid),
                "sk": {"S": "CANCEL"},
                "created_at": {"N": str(now)},
                "expires_at": {"N": str(now + self.request_ttl_s)},
            },
        )

    def is_cancelled(self, identity_id: str, rid: str) -> bool:
        """True when a cancel flag exists for `rid` (a consistent read of one small item)."""
        response = self.client.get_item(
            TableName=self.table,
            Key={"pk": self._request_pk(identity_id, rid), "sk": {"S": "CANCEL"}},
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in response

    def load_history(self, identity_id: str, conversation: str, max_turns: int) -> list[Turn]:
        """The newest `max_turns` turns of a conversation, oldest first."""
        if max_turns <= 0:
            return []
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :turn)",
            ExpressionAttributeValues={
                ":pk": {"S": f"CONV#{identity_id}#{conversation}"},
                ":turn": {"S": "TURN#"},
            },
            ScanIndexForward=False,
            Limit=max_turns,
        )
        items = list(reversed(response.get("Items", [])))
        return [Turn(user=i["user"]["S"], assistant=i["assistant"]["S"]) for i in items]

    def append_turn(self, identity_id: str, conversation: str, rid: str, turn: Turn) -> None:
        """Store one exchange at the end of a conversation."""
        now = self.wall_clock()
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"CONV#{identity_id}#{conversation}"},
                "sk": {"S": f"TURN#{int(now * 1000):013d}#{rid}"},
                "user": {"S": turn.user},
                "assistant": {"S": turn.assistant},
                "expires_at": {"N": str(int(now) + self.history_ttl_s)},
            },
        )


def history_messages(turns: list[Turn], max_chars: int) -> list[Message]:
    """Turns as model messages, dropping the oldest until the total fits `max_chars`."""
    kept: list[Turn] = []
    total = 0
    for turn in reversed(turns):
        size = len(turn.user) + len(turn.assistant)
        if total + size > max_chars:
            break
        kept.append(turn)
        total += size
    messages: list[Message] = []
    for turn in reversed(kept):
        messages.append(Message("user", turn.user))
        messages.append(Message("assistant", turn.assistant))
    return messages
