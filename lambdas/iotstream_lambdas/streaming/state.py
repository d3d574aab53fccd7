"""Stream state in one DynamoDB table (`STATE_TABLE`): request records, cancel flags, conversation history.

Keys (string `pk`, string `sk`):

| item | pk | sk |
|---|---|---|
| request record (claim, lease, cancel flag, outcome) | `REQ#{identity_id}#{rid}` | `REQ` |
| conversation turn | `CONV#{identity_id}#{conversation}` | `TURN#{epoch ms, 13 digits}#{rid}` |
| per-identity limits (`iotstream_lambdas.streaming.admission`) | `LIMIT#{identity_id}` | `STREAMS`, `MINUTE#…`, `DAY#…` |

The request record is the one item a stream lives by:

- `status`: absent until a prompt claims the rid, `streaming` while an invocation answers it, then its
  outcome (`end_turn`, `cancelled`, `error:<code>`, ...). A claim succeeds only where there is no record yet,
  so a rid is answered at most once (Lambda may deliver an event more than once).
- `cancelled` (epoch s): set by the cancel function, before or during the stream; the claim and every
  heartbeat see it.
- The lease of the invocation answering it: `owner` (a token per attempt), `lease_until` (epoch ms; the owner
  renews it with every heartbeat), `seq_done` (every event below it was published), `seq_limit` (no event
  above it may be published before the record says so), `feed_n` (the dashboard feed's last update number).
  An attempt that died leaves a lease that runs out; whoever finds it so can end the stream for the client
  (`iotstream_lambdas.streaming.takeover`): every event up to `seq_limit` may exist, none beyond it does.

Every item carries `expires_at` (epoch seconds) for DynamoDB TTL. The identity is part of every key, so one
user can neither block nor read another user's requests or history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from iotstream_lambdas.streaming.llm.base import Message

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_REQUEST_TTL_S = 3600
"""Request records expire an hour after the prompt (`REQUEST_TTL_S`): far longer than a duplicate delivery can
come (the CDK stack sets the prompt function's maximum event age to 60 s; a prompt older than
`PROMPT_MAX_AGE_MS`, 30 s, is refused anyway), and short enough that the table does not keep every prompt of
a day."""
DEFAULT_HISTORY_TTL_S = 30 * 24 * 3600
STREAMING = "streaming"
CONDITION_FAILED = "ConditionalCheckFailedException"

Heartbeat = Literal["live", "cancelled", "lost"]
"""What a heartbeat found: the stream goes on, the user cancelled it, or another attempt took it over."""


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


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored exchange of a conversation."""

    user: str
    assistant: str


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """The request record as read back (see the module docstring)."""

    status: str | None
    owner: str | None
    lease_until_ms: int
    seq_done: int
    seq_limit: int
    feed_n: int
    model: str
    created_at: int
    cancelled: bool

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RequestRecord:
        def number(name: str) -> int:
            return int(item[name]["N"]) if name in item else 0

        def text(name: str) -> str | None:
            return str(item[name]["S"]) if name in item else None

        return cls(
            status=text("status"),
            owner=text("owner"),
            lease_until_ms=number("lease_until"),
            seq_done=number("seq_done"),
            seq_limit=number("seq_limit"),
            feed_n=number("feed_n"),
            model=text("model") or "",
            created_at=number("created_at"),
            cancelled="cancelled" in item,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """What an attempt writes when it claims a rid: its owner token, lease and first reservation."""

    owner: str
    lease_until_ms: int
    seq_limit: int
    model: str


@dataclass
class StateStore:
    """Typed access to the state table through an injected boto3 DynamoDB client."""

    client: DynamoDBClient
    table: str
    wall_clock: Callable[[], float] = time.time
    request_ttl_s: int = DEFAULT_REQUEST_TTL_S
    history_ttl_s: int = DEFAULT_HISTORY_TTL_S

    def _request_key(self, identity_id: str, rid: str) -> dict[str, Any]:
        return {"pk": {"S": f"REQ#{identity_id}#{rid}"}, "sk": {"S": "REQ"}}

    # ------------------------------------------------------------------ claim (one item of a transaction)

    def claim_put(self, identity_id: str, rid: str, claim: Claim) -> dict[str, Any]:
        """The `Put` that claims `rid` for one attempt: only where no attempt claimed it and no cancel came
        first, so it never replaces anything but nothing (`iotstream_lambdas.streaming.gate` runs it in one transaction with the
        identity's limits; a Put, not an Update: the same write on AWS, and no expression to evaluate)."""
        now = int(self.wall_clock())
        return {
            "TableName": self.table,
            "Item": {
                **self._request_key(identity_id, rid),
                "status": {"S": STREAMING},
                "owner": {"S": claim.owner},
                "lease_until": {"N": str(claim.lease_until_ms)},
                "seq_done": {"N": "0"},
                "seq_limit": {"N": str(claim.seq_limit)},
                "feed_n": {"N": "0"},
                "model": {"S": claim.model},
                "created_at": {"N": str(now)},
                "expires_at": {"N": str(now + self.request_ttl_s)},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def record_outcome_unclaimed(self, identity_id: str, rid: str, outcome: str) -> bool:
        """Record the outcome of a rid nobody streams (refused, cancelled before it started). False when an
        attempt claimed it first (a duplicate delivery: it is not answered twice)."""
        now = int(self.wall_clock())
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._request_key(identity_id, rid),
                UpdateExpression="SET #s = :s, created_at = :now, finished_at = :now, expires_at = :exp",
                ConditionExpression="attribute_not_exists(#s)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": {"S": outcome},
                    ":now": {"N": str(now)},
                    ":exp": {"N": str(now + self.request_ttl_s)},
                },
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                return False
            raise
        return True

    def read_request(self, identity_id: str, rid: str) -> RequestRecord | None:
        """The request record (a consistent read), or None when there is none."""
        item = self.client.get_item(
            TableName=self.table, Key=self._request_key(identity_id, rid), ConsistentRead=True
        ).get("Item")
        return None if item is None else RequestRecord.from_item(item)

    def request_status(self, identity_id: str, rid: str) -> str | None:
        """The recorded status of a request, or None when it was never claimed."""
        record = self.read_request(identity_id, rid)
        return None if record is None else record.status

    # ------------------------------------------------------------------ the owner's lease

    def heartbeat(
        self,
        identity_id: str,
        rid: str,
        owner: str,
        *,
        lease_until_ms: int,
        seq_done: int,
        seq_limit: int,
        feed_n: int,
    ) -> Heartbeat:
        """Renew the owner's lease and record its progress; one write that also reads the cancel flag."""
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=self._request_key(identity_id, rid),
                UpdateExpression=(
                    "SET lease_until = :lease, seq_done = :done, seq_limit = :limit, feed_n = :feed"
                ),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":lease": {"N": str(lease_until_ms)},
                    ":done": {"N": str(seq_done)},
                    ":limit": {"N": str(seq_limit)},
                    ":feed": {"N": str(feed_n)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                return "lost"
            raise
        return "cancelled" if "cancelled" in response.get("Attributes", {}) else "live"

    def finish_update(self, identity_id: str, rid: str, owner: str, outcome: str) -> dict[str, Any]:
        """The `Update` recording how the owner's stream ended (fails if another attempt took it over)."""
        return {
            "TableName": self.table,
            "Key": self._request_key(identity_id, rid),
            "UpdateExpression": "SET #s = :s, finished_at = :t",
            "ConditionExpression": "#o = :owner",
            "ExpressionAttributeNames": {"#s": "status", "#o": "owner"},
            "ExpressionAttributeValues": {
                ":s": {"S": outcome},
                ":t": {"N": str(int(self.wall_clock()))},
                ":owner": {"S": owner},
            },
        }

    def take_over(self, identity_id: str, rid: str, dead: RequestRecord, owner: str, outcome: str) -> bool:
        """End a stream whose owner's lease ran out: record `outcome` for `owner`, only if the record is still
        exactly as `dead` left it (so two attempts cannot both end it). False when it changed."""
        assert dead.owner is not None
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._request_key(identity_id, rid),
                UpdateExpression="SET #s = :s, #o = :me, finished_at = :t",
                ConditionExpression="#s = :streaming AND #o = :dead AND lease_until = :lease",
                ExpressionAttributeNames={"#s": "status", "#o": "owner"},
                ExpressionAttributeValues={
                    ":s": {"S": outcome},
                    ":me": {"S": owner},
                    ":t": {"N": str(int(self.wall_clock()))},
                    ":streaming": {"S": STREAMING},
                    ":dead": {"S": dead.owner},
                    ":lease": {"N": str(dead.lease_until_ms)},
                },
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                return False
            raise
        return True

    def set_cancelled(self, identity_id: str, rid: str) -> None:
        """Flag `rid` as cancelled (works before, during or after its stream; expires with TTL)."""
        now = int(self.wall_clock())
        self.client.update_item(
            TableName=self.table,
            Key=self._request_key(identity_id, rid),
            UpdateExpression="SET cancelled = :now, expires_at = if_not_exists(expires_at, :exp)",
            ExpressionAttributeValues={":now": {"N": str(now)}, ":exp": {"N": str(now + self.request_ttl_s)}},
        )

    def is_cancelled(self, identity_id: str, rid: str) -> bool:
        """True when a cancel flag exists for `rid`."""
        record = self.read_request(identity_id, rid)
        return record is not None and record.cancelled

    # ------------------------------------------------------------------ history

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

    def turn_put(self, identity_id: str, conversation: str, rid: str, turn: Turn) -> dict[str, Any]:
        """The `Put` storing one exchange at the end of a conversation."""
        now = self.wall_clock()
        return {
            "TableName": self.table,
            "Item": {
                "pk": {"S": f"CONV#{identity_id}#{conversation}"},
                "sk": {"S": f"TURN#{int(now * 1000):013d}#{rid}"},
                "user": {"S": turn.user},
                "assistant": {"S": turn.assistant},
                "expires_at": {"N": str(int(now) + self.history_ttl_s)},
            },
        }

    def write(self, actions: list[dict[str, Any]]) -> None:
        """Write `[{"Update": ...} | {"Put": ...}, ...]` at once: one transaction, or one plain call for one
        action (half the cost on AWS). Raises `ConditionsFailed` naming the actions whose condition failed."""
        try:
            if len(actions) > 1:
                self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
                return
            ((kind, params),) = actions[0].items()
            if kind == "Update":
                self.client.update_item(**params)
            elif kind == "Put":
                self.client.put_item(**params)
            else:
                raise ValueError(f"write: unsupported action {kind}")
        except ClientError as exc:
            code = error_code(exc)
            if code == CONDITION_FAILED:
                raise ConditionsFailed((True,)) from exc
            if code != "TransactionCanceledException":
                raise
            reasons = [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons", [])]
            if "TransactionConflict" in reasons:
                raise ConditionsFailed(tuple(False for _ in actions), conflict=True) from exc
            if not any(r == "ConditionalCheckFailed" for r in reasons):
                raise
            raise ConditionsFailed(tuple(r == "ConditionalCheckFailed" for r in reasons)) from exc


class ConditionsFailed(Exception):
    """A write whose conditions did not all hold: `failed[i]` for action i; `conflict` when a concurrent
    transaction on the same items cancelled it (try again).
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CancellationReason.html"""

    def __init__(self, failed: tuple[bool, ...], *, conflict: bool = False) -> None:
        super().__init__(f"conditions failed: {failed}" + (" (conflict)" if conflict else ""))
        self.failed = failed
        self.conflict = conflict


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
