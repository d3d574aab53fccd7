"""What localcore adds to moto's DynamoDB: transactions whose cost does not grow with the table, and TTL.

- **Transactions.** moto's `TransactWriteItems` deep-copies every table the transaction names before it starts
  (to roll back on failure): CPU and garbage proportional to the whole table, on every prompt. Here the
  conditions of every action are checked first and nothing is written unless all hold, as DynamoDB does
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html: "all or
  nothing"; `CancellationReasons` one per action, in order, `None` where the action was fine); only the items
  the transaction names are copied, to undo a write that fails half way (an invalid update expression).
  localcore runs moto on one worker thread, so the check and the writes are atomic, as DynamoDB's are.
- **Time to live.** moto records a table's TTL setting but never deletes an expired item. DynamoDB deletes
  items whose TTL attribute (epoch seconds) is in the past "within a few days"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html), and until then an
  expired item is still returned by reads. localcore deletes them at the next sweep (every
  `SWEEP_INTERVAL_S`): sooner than AWS, so code must not rely on reading an expired item, which AWS does not
  promise either. A TTL attribute that is not a number is ignored, as DynamoDB ignores it.
- **No empty partitions.** moto keeps a table with a sort key as {partition key: {sort key: item}} in a
  `defaultdict`: a GetItem of an item that is not there adds an empty partition, and deleting a partition's
  last item (DeleteItem, TTL) leaves one; neither ever goes away. Reading absent items is routine (a rid not
  seen yet, a cancel flag never set), so localcore grew with every such read, for good. Here both leave no
  empty partition behind.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

SWEEP_INTERVAL_S = 10.0
MAX_ACTIONS = 100
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")

_Error = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


def _key_of(backend: DynamoDBBackend, kind: str, action: dict[str, Any]) -> dict[str, Any]:
    if kind != "Put":
        return dict(action["Key"])
    table = backend.get_table(action["TableName"])
    attributes = action["Item"]
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, action: dict[str, Any], key: dict[str, Any]) -> _Error:
    """The action's condition against the item as it is now: `(None, None, None)` when it holds."""
    current = backend.get_item(action["TableName"], key)
    expression = action.get("ConditionExpression")
    if expression is None:
        return None, None, None
    condition = get_filter_expression(
        expression, action.get("ExpressionAttributeNames"), action.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return None, None, None
    returned = None
    if action.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
        returned = current.to_json()["Attributes"]
    return "ConditionalCheckFailed", ConditionalCheckFailed().message, returned


def _apply(backend: DynamoDBBackend, kind: str, action: dict[str, Any], key: dict[str, Any]) -> None:
    table = action["TableName"]
    names, values = action.get("ExpressionAttributeNames"), action.get("ExpressionAttributeValues")
    if kind == "Put":
        backend.put_item(table, action["Item"], overwrite=True)
    elif kind == "Delete":
        backend.delete_item(table, key)
    elif kind == "Update":
        backend.update_item(table, key, action["UpdateExpression"], names or {}, values or {})


def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDB's `TransactWriteItems` on moto's backend: check every condition, then write all or nothing."""
    if len(transact_items) > MAX_ACTIONS:
        raise TooManyTransactionsException()
    planned: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    errors: list[_Error] = []
    for item in transact_items:
        if len(item) != 1:
            raise TransactWriteSingleOpException()
        ((kind, action),) = item.items()
        try:
            if kind not in _ACTIONS:
                raise ValueError(f"Unsupported transaction operation {kind}")
            key = _key_of(backend, kind, action)
            target = (str(action["TableName"]), str(sorted(key.items())))
            if target in seen:
                raise MultipleTransactionsException()
            seen.add(target)
            errors.append(_check(backend, action, key))
            planned.append((kind, action, key))
        except MultipleTransactionsException:
            raise
        except Exception as exc:  # noqa: BLE001 - moto's convention: any other failure is that action's reason
            errors.append((type(exc).__name__, str(exc), None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    undo = [
        (action["TableName"], key, copy.deepcopy(backend.get_item(action["TableName"], key)))
        for _, action, key in planned
    ]
    try:
        for kind, action, key in planned:
            _apply(backend, kind, action, key)
    except Exception:
        for table, key, before in undo:
            if before is None:
                backend.delete_item(table, key)
            else:
                backend.put_item(table, before.to_json()["Attributes"], overwrite=True)
        raise


def use_local_transactions() -> None:
    """Make every moto DynamoDB backend of this process run transactions as `transact_write_items` does."""

    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        transact_write_items(self, transact_items)

    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]


def drop_empty_partitions() -> None:
    """Make moto's `Table.get_item` and `Table.delete_item` leave no empty partition (the module docstring)."""
    if getattr(Table, "_localcore_drops_empty_partitions", False):
        return
    moto_get_item, moto_delete_item = Table.get_item, Table.delete_item

    def forget_if_empty(table: Table, hash_key: DynamoType) -> None:
        if table.has_range_key and not table.items.get(hash_key, True):
            del table.items[hash_key]

    def get_item(
        self: Table,
        hash_key: DynamoType,
        range_key: DynamoType | None = None,
        projection_expression: list[list[str]] | None = None,
    ) -> Item | None:
        try:
            return moto_get_item(self, hash_key, range_key, projection_expression)
        finally:
            forget_if_empty(self, hash_key)

    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        try:
            return moto_delete_item(self, hash_key, range_key)
        finally:
            forget_if_empty(self, hash_key)

    Table.get_item = get_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    Table._localcore_drops_empty_partitions = True  # type: ignore[attr-defined]


def sweep_expired(account: str, now: float | None = None) -> int:
    """Delete every item past its table's TTL (epoch seconds <= now) in the account's backends (one per region
    it used); how many were deleted. Only localcore's account: another moto user of the same process (a test's
    own moto server) keeps its items. Run it on the thread that runs moto."""
    now = time.time() if now is None else now
    deleted = 0
    for backend in list(dynamodb_backends[account].values()):
        for table in list(backend.tables.values()):
            ttl = table.ttl
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
                continue
            attribute = ttl["AttributeName"]
            for item in table.all_items():
                value = item.attrs.get(attribute)
                if value is None or value.type != "N":
                    continue
                try:
                    expired = float(value.value) <= now
                except ValueError:
                    continue
                if expired:
                    table.delete_item(item.hash_key, item.range_key)
                    deleted += 1
    return deleted
