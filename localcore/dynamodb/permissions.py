"""Which IAM permissions a DynamoDB request needs: `dynamodb:<Operation>` on each table (or index) it names.

As AWS documents ("Actions, resources, and condition keys for Amazon DynamoDB",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html): the action is the
operation's name and the resource the table's ARN, `…:table/<name>/index/<index>` for a Query or Scan of an
index; a batch needs the action on every table of `RequestItems`; a transaction needs the action of each item
(`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`, `GetItem`) on that item's table
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). A request whose
tables cannot be read from it (ListTables, PartiQL statements, a malformed body) is checked on `*`, so only a
principal allowed on every table (the local admin) passes: never looser than AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Permission = tuple[str, str]  # (action, resource ARN)
TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def required_permissions(
    operation: str, params: dict[str, Any], table_arn: Callable[[str], str]
) -> list[Permission]:
    """Every (action, resource) the request needs; `table_arn(name)` is the ARN of a table in this account."""
    try:
        needed = _needed(operation, params, table_arn)
    except (
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
    ):  # a body of the wrong shape: DynamoDB refuses it anyway
        needed = []
    return needed or [(f"dynamodb:{operation}", "*")]


def _needed(operation: str, params: dict[str, Any], table_arn: Callable[[str], str]) -> list[Permission]:
    if operation == "TransactWriteItems":
        return [
            (f"dynamodb:{TRANSACT_WRITE_ACTIONS[kind]}", table_arn(_name(body)))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [("dynamodb:GetItem", table_arn(_name(item["Get"]))) for item in params["TransactItems"]]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = params["RequestItems"]
        if not isinstance(tables, dict):
            raise TypeError("RequestItems must be a map of table names")
        return [(f"dynamodb:{operation}", table_arn(_checked(name))) for name in tables]
    name = params.get("TableName")
    if not isinstance(name, str) or not name:
        return []
    resource = table_arn(name)
    index = params.get("IndexName")
    if operation in ("Query", "Scan") and isinstance(index, str) and index:
        resource = f"{resource}/index/{index}"
    return [(f"dynamodb:{operation}", resource)]


def _name(body: Any) -> str:
    return _checked(body["TableName"])


def _checked(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError("a table name must be a non-empty string")
    return name
