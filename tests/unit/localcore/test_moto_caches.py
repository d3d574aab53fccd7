"""The results localcore keeps for moto (`localcore.services.moto_caches`) are the ones moto would compute again:
the same tree for the same `UpdateExpression` text, never changed by an update that uses it, and a text that
does not parse refused every time (DynamoDB answers ValidationException for each such request,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import responses, utils
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from localcore.services.moto_caches import keep_unchanging_results


def test_method_names_are_listed_once_per_class() -> None:
    """moto's `call_action` lists a handler class's methods; a class's methods do not change at run time."""
    keep_unchanging_results()
    keep_unchanging_results()  # idempotent: the cache is not wrapped twice
    kept = vars(responses)["method_names_from_class"]
    assert kept is not utils.method_names_from_class
    assert kept(responses.BaseResponse) == utils.method_names_from_class(responses.BaseResponse)


def test_a_kept_update_tree_answers_every_update_as_a_fresh_parse_would() -> None:
    """Two items updated with one expression text and different values: each gets its own values (the kept
    tree is copied by moto's validator before values are put in), and a bad text fails on every request."""
    keep_unchanging_results()
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for key, value in (("a", "1"), ("b", "2"), ("a", "3")):
            client.update_item(
                TableName="t",
                Key={"pk": {"S": key}},
                UpdateExpression="SET n = :v ADD c :one",
                ExpressionAttributeValues={":v": {"N": value}, ":one": {"N": "1"}},
            )
        items = {key: client.get_item(TableName="t", Key={"pk": {"S": key}})["Item"] for key in ("a", "b")}
        assert items["a"]["n"] == {"N": "3"} and items["a"]["c"] == {"N": "2"}
        assert items["b"]["n"] == {"N": "2"} and items["b"]["c"] == {"N": "1"}
        assert UpdateExpressionParser.make.cache_info().hits >= 2
        for _ in range(2):
            with pytest.raises(client.exceptions.ClientError, match="ValidationException"):
                client.update_item(
                    TableName="t",
                    Key={"pk": {"S": "a"}},
                    UpdateExpression="SET = :v",
                    ExpressionAttributeValues={":v": {"N": "1"}},
                )
