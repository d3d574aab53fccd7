"""localcore's DynamoDB (moto behind the gateway, plus `localcore.services.dynamodb_store`) through real boto3 calls:
transactions are all or nothing with one cancellation reason per action, and TTL deletes expired items."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clients.local_app import local_config
from iotstream_lambdas.streaming.state import create_state_table
from localcore.testing import RunningLocalcore
from tests.support.streaming import dynamodb_client, serving_moto


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningLocalcore]:
    with RunningLocalcore(local_config()) as running:
        yield running


@pytest.fixture
def table(stack: RunningLocalcore) -> tuple[Any, str]:
    client = stack.client("dynamodb")
    name = f"t-{uuid.uuid4().hex[:10]}"
    create_state_table(client, name)  # TTL on expires_at, as the project's table
    return client, name


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def put(name: str, pk: str, **condition: Any) -> dict[str, Any]:
    return {"Put": {"TableName": name, "Item": {**key(pk), "n": {"N": "1"}}, **condition}}


def test_a_transaction_writes_all_or_nothing_with_a_reason_per_action(table: tuple[Any, str]) -> None:
    """TransactWriteItems: when one condition fails nothing is written, and CancellationReasons has one entry
    per action in request order, `None` where the action was fine
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CancellationReason.html)."""
    client, name = table
    client.put_item(TableName=name, Item={**key("taken"), "n": {"N": "7"}})
    actions = [
        put(name, "fresh"),
        put(name, "taken", ConditionExpression="attribute_not_exists(pk)"),
        {
            "Update": {
                "TableName": name,
                "Key": key("other"),
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "2"}},
            }
        },
    ]
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=actions)
    error = refused.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == ["None", "ConditionalCheckFailed", "None"]
    assert "Item" not in client.get_item(TableName=name, Key=key("fresh"))
    assert "Item" not in client.get_item(TableName=name, Key=key("other"))
    client.transact_write_items(TransactItems=[actions[0], actions[2]])
    assert client.get_item(TableName=name, Key=key("other"))["Item"]["n"] == {"N": "2"}


def test_a_write_failing_half_way_is_undone(table: tuple[Any, str]) -> None:
    """All or nothing also when an action fails while writing (an update path into a missing map): the
    actions before it are undone and the error is the action's reason."""
    client, name = table
    client.put_item(TableName=name, Item={**key("before"), "n": {"N": "1"}})
    actions = [
        {
            "Update": {
                "TableName": name,
                "Key": key("before"),
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "9"}},
            }
        },
        {
            "Update": {
                "TableName": name,
                "Key": key("mapless"),
                "UpdateExpression": "SET m.#f = :v",
                "ExpressionAttributeNames": {"#f": "f"},
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            }
        },
    ]
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=actions)
    assert client.get_item(TableName=name, Key=key("before"))["Item"]["n"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName=name, Key=key("mapless"))


def test_ttl_deletes_expired_items_at_the_next_sweep(stack: RunningLocalcore, table: tuple[Any, str]) -> None:
    """DynamoDB deletes items whose TTL attribute (epoch seconds) is in the past, and ignores a TTL attribute
    that is not a number (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html);
    localcore does it at its next sweep."""
    client, name = table
    now = int(time.time())
    client.put_item(TableName=name, Item={**key("old"), "expires_at": {"N": str(now - 1)}})
    client.put_item(TableName=name, Item={**key("new"), "expires_at": {"N": str(now + 3600)}})
    client.put_item(TableName=name, Item={**key("text"), "expires_at": {"S": str(now - 1)}})
    client.put_item(TableName=name, Item=key("forever"))
    assert stack.thread.run(stack.core.services.moto.sweep_now()) >= 1
    left = {i["pk"]["S"] for i in client.scan(TableName=name)["Items"]}
    assert left == {"new", "text", "forever"}


def test_the_ttl_sweep_deletes_in_localcores_account_only(stack: RunningLocalcore) -> None:
    """The sweep is localcore's stand-in for DynamoDB TTL in its own account: another moto user of the same
    process (the streaming unit tests' own moto server, whose items carry a fake clock's past expiry) keeps its
    items (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html: TTL acts
    per table, in the table's own account)."""
    with serving_moto() as url:
        other, name = dynamodb_client(url), f"t-{uuid.uuid4().hex[:10]}"
        create_state_table(other, name)
        other.put_item(TableName=name, Item={**key("old"), "expires_at": {"N": str(int(time.time()) - 1)}})
        stack.thread.run(stack.core.services.moto.sweep_now())
        assert "Item" in other.get_item(TableName=name, Key=key("old"))
