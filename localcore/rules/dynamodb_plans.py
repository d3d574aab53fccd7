"""The `dynamoDB` and `dynamoDBv2` rule actions: the SELECT output as a DynamoDB item.

JSON values become DynamoDB's attribute values as their types say (string S, number N, true/false BOOL,
null NULL, object M, array L), as DynamoDB's own JSON mapping does
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from localcore.rules.actions import ActionFailed, Render
from localcore.rules.service_calls import Plan, ServiceCall

DEFAULT_PAYLOAD_FIELD = "payload"
OPERATIONS = {"INSERT": "PutItem", "UPDATE": "UpdateItem", "DELETE": "DeleteItem"}


def attribute(value: Any) -> dict[str, Any]:
    """One JSON value (or raw bytes) as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(key): attribute(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [attribute(item) for item in value]}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def plan_dynamodb_v2(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """dynamodb-v2-rule-action.html: PutItem into `putItem.tableName` (templates), each top-level attribute
    of the SELECT output one attribute of the item (the output must be a JSON object holding the key)."""
    table = render(str(params["putItem"]["tableName"]))
    if not isinstance(output, Mapping):
        what = "binary" if isinstance(output, bytes | bytearray) else type(output).__name__
        raise ActionFailed(
            "dynamoDBv2", table, f"the SELECT output must be a JSON object to become an item, not {what}"
        )
    item = {str(key): attribute(value) for key, value in output.items()}
    call = ServiceCall("dynamodb", "PutItem", {"TableName": table, "Item": item}, str(params["roleArn"]))
    return Plan("dynamoDBv2", table, "Failed to put DynamoDB item", f"Table: {table}", (call,))


def _key(params: Mapping[str, Any], render: Render, part: str, table: str) -> dict[str, Any]:
    """`{field: value}` for the hash or range key, typed by `<part>KeyType` (STRING when omitted: AWS does
    not say; a table whose key is a number then refuses the write, as AWS would with a wrong type)."""
    name = render(str(params[f"{part}KeyField"]))
    value = render(str(params[f"{part}KeyValue"]))
    kind = render(str(params.get(f"{part}KeyType") or "STRING"))
    if kind == "NUMBER":
        try:
            Decimal(value)
        except InvalidOperation:
            raise ActionFailed("dynamoDB", table, f"{part} key {name}: {value!r} is not a NUMBER") from None
        return {name: {"N": value}}
    if kind != "STRING":
        raise ActionFailed("dynamoDB", table, f"{part}KeyType must be STRING or NUMBER, not {kind!r}")
    return {name: {"S": value}}


def plan_dynamodb(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """dynamodb-rule-action.html: the item's hash (and range) key from the rendered key fields, and the whole
    SELECT output in the `payloadField` column (default `payload`): a JSON object as a map, non-JSON data as
    binary ("This rule writes non-JSON data to DynamoDB as binary data"). `operation` (templates) INSERT
    (default, PutItem), UPDATE (UpdateItem of the payload column) or DELETE (DeleteItem)."""
    table = render(str(params["tableName"]))
    key = _key(params, render, "hash", table)
    if params.get("rangeKeyField"):
        key |= _key(params, render, "range", table)
    operation = render(str(params.get("operation") or "INSERT")).upper()
    if operation not in OPERATIONS:
        raise ActionFailed(
            "dynamoDB", table, f"operation must be INSERT, UPDATE or DELETE, not {operation!r}"
        )
    column = render(str(params.get("payloadField") or DEFAULT_PAYLOAD_FIELD)) or DEFAULT_PAYLOAD_FIELD
    payload = attribute(output)
    request: dict[str, Any] = {"TableName": table}
    if operation == "INSERT":
        request["Item"] = {**key, column: payload}
    elif operation == "UPDATE":
        request |= {
            "Key": key,
            "UpdateExpression": "SET #payload = :payload",
            "ExpressionAttributeNames": {"#payload": column},
            "ExpressionAttributeValues": {":payload": payload},
        }
    else:
        request["Key"] = key
    call = ServiceCall("dynamodb", OPERATIONS[operation], request, str(params["roleArn"]))
    words = {"INSERT": "put", "UPDATE": "update", "DELETE": "delete"}[operation]
    return Plan("dynamoDB", table, f"Failed to {words} DynamoDB item", f"Table: {table}", (call,))
