"""What localcore keeps of moto's per-request work (`localcore.services.moto_caches`) answers as a fresh parse
would, through real boto3 calls to localcore's DynamoDB: one `UpdateExpression` text used for several items and
values gives each item its own values (the kept tree is never changed by a request), and a text that does not
parse is refused with ValidationException on every request, as DynamoDB refuses it
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html, "Errors")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import responses, utils
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from localcore.services.moto_caches import keep_unchanging_results
from localcore.testing import RunningLocalcore, free_port_config


@pytest.fixture(scope="module")
def table() -> Iterator[tuple[Any, str]]:
    with RunningLocalcore(free_port_config()) as stack:
        client = stack.client("dynamodb")
        name = f"t-{uuid.uuid4().hex[:10]}"
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client, name


def test_one_expression_text_for_many_items_and_values(table: tuple[Any, str]) -> None:
    """Each update gets its own values although the expression's tree is parsed once."""
    client, name = table
    for pk, value in (("a", "1"), ("b", "2"), ("a", "3")):
        client.update_item(
            TableName=name,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET n = :v ADD c :one",
            ExpressionAttributeValues={":v": {"N": value}, ":one": {"N": "1"}},
        )
    items = {pk: client.get_item(TableName=name, Key={"pk": {"S": pk}})["Item"] for pk in ("a", "b")}
    assert (items["a"]["n"], items["a"]["c"]) == ({"N": "3"}, {"N": "2"})
    assert (items["b"]["n"], items["b"]["c"]) == ({"N": "2"}, {"N": "1"})
    assert UpdateExpressionParser.make.cache_info().hits >= 2


def test_a_text_that_does_not_parse_is_refused_every_time(table: tuple[Any, str]) -> None:
    """DynamoDB answers ValidationException to each request with an invalid UpdateExpression: a failed parse
    is not kept as if it were a tree."""
    client, name = table
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            client.update_item(
                TableName=name,
                Key={"pk": {"S": "a"}},
                UpdateExpression="SET = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            )
        assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_method_names_are_listed_once_per_class() -> None:
    """moto's `call_action` lists a handler class's methods; a class's methods do not change at run time, and
    installing twice does not wrap twice."""
    keep_unchanging_results()
    keep_unchanging_results()
    kept = vars(responses)["method_names_from_class"]
    assert kept is not utils.method_names_from_class
    assert kept.__wrapped__ is utils.method_names_from_class
    assert kept(responses.BaseResponse) == utils.method_names_from_class(responses.BaseResponse)
