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
