"""The local table store lets go of what it no longer needs.

moto, behind localcore's DynamoDB endpoint, keeps every model instance it ever made (for the dashboard of its
own server, which localcore does not serve), and TransactWriteItems deep-copies each table it touches to roll
back on failure: every transaction kept a whole copy of the table alive. The prompt function runs one per
prompt (its admission counters, lambdas/iotstream_lambdas/streaming/admission.py), so a prompt flood grew localcore by hundreds of
MB that never came back (bench.flood, docs/benchmarks.md "Flood").
"""

from __future__ import annotations

import gc
import uuid

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item

from localcore.functions import STATE_TABLE
from localcore.testing import RunningLocalcore

TABLE_ITEMS = 200
TRANSACTIONS = 20


def live_items() -> int:
    gc.collect()
    return sum(isinstance(thing, Item) for thing in gc.get_objects())


def test_transactions_do_not_keep_copies_of_the_table(stack: RunningLocalcore) -> None:
    """TransactWriteItems with a refused condition (API_TransactWriteItems.html: the whole transaction is
    cancelled, nothing is written), as the admission counters do once a limit is reached: the items alive
    afterwards are the table's, not a copy per transaction."""
    dynamodb = stack.client("dynamodb")
    prefix = f"memory-{uuid.uuid4()}"
    for index in range(TABLE_ITEMS):
        dynamodb.put_item(
            TableName=STATE_TABLE, Item={"pk": {"S": f"{prefix}#{index}"}, "sk": {"S": "x"}, "n": {"N": "1"}}
        )
    before = live_items()
    refused = 0
    for _ in range(TRANSACTIONS):
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": STATE_TABLE,
                            "Key": {"pk": {"S": f"{prefix}#0"}, "sk": {"S": "x"}},
                            "UpdateExpression": "ADD n :one",
                            "ConditionExpression": "n < :max",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": "1"}},
                        }
                    }
                ]
            )
        except dynamodb.exceptions.TransactionCanceledException:
            refused += 1
    assert refused == TRANSACTIONS
    assert live_items() - before < TABLE_ITEMS  # one copy of the table per transaction would be 20 x that


def partitions(stack: RunningLocalcore) -> int:
    """How many partitions moto holds for the state table (`{partition key: {sort key: item}}`)."""
    config = stack.core.config
    return len(dynamodb_backends[config.account][config.region].tables[STATE_TABLE].items)


def test_reading_absent_items_and_deleting_the_last_item_of_a_partition_keep_nothing(
    stack: RunningLocalcore,
) -> None:
    """moto's table is a defaultdict of partitions: every GetItem of an absent item (a rid not seen yet, a
    repeated refusal's check) added an empty partition for good, and deleting a partition's last item left one.
    A missing item is still answered without `Item` (API_GetItem.html: "If there is no matching item, GetItem
    does not return any data"), and items that exist are still found."""
    dynamodb = stack.client("dynamodb")
    prefix = f"absent-{uuid.uuid4()}"
    before = partitions(stack)
    for index in range(TABLE_ITEMS):
        answer = dynamodb.get_item(
            TableName=STATE_TABLE, Key={"pk": {"S": f"{prefix}#{index}"}, "sk": {"S": "x"}}
        )
        assert "Item" not in answer
    assert partitions(stack) == before

    key = {"pk": {"S": f"{prefix}#kept"}, "sk": {"S": "x"}}
    dynamodb.put_item(TableName=STATE_TABLE, Item={**key, "n": {"N": "1"}})
    assert dynamodb.get_item(TableName=STATE_TABLE, Key=key)["Item"]["n"] == {"N": "1"}
    assert partitions(stack) == before + 1
    dynamodb.delete_item(TableName=STATE_TABLE, Key=key)
    assert "Item" not in dynamodb.get_item(TableName=STATE_TABLE, Key=key)
    assert partitions(stack) == before
