"""What each DynamoDB request needs from IAM ("Actions, resources, and condition keys for Amazon DynamoDB",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html; transactions:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)."""

from __future__ import annotations

from localcore.dynamodb.permissions import required_permissions


def arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"


def test_item_operations_need_their_action_on_the_table_or_index() -> None:
    assert required_permissions("GetItem", {"TableName": "t"}, arn) == [("dynamodb:GetItem", arn("t"))]
    assert required_permissions("Query", {"TableName": "t", "IndexName": "i"}, arn) == [
        ("dynamodb:Query", arn("t") + "/index/i")
    ]


def test_batches_need_the_action_on_every_table() -> None:
    params = {"RequestItems": {"a": [], "b": []}}
    assert required_permissions("BatchWriteItem", params, arn) == [
        ("dynamodb:BatchWriteItem", arn("a")),
        ("dynamodb:BatchWriteItem", arn("b")),
    ]


def test_transactions_need_each_items_own_action() -> None:
    """TransactWriteItems is authorized as PutItem/UpdateItem/DeleteItem/ConditionCheckItem per item."""
    items = [
        {"Put": {"TableName": "a"}},
        {"ConditionCheck": {"TableName": "b"}},
        {"Delete": {"TableName": "a"}},
    ]
    assert required_permissions("TransactWriteItems", {"TransactItems": items}, arn) == [
        ("dynamodb:PutItem", arn("a")),
        ("dynamodb:ConditionCheckItem", arn("b")),
        ("dynamodb:DeleteItem", arn("a")),
    ]
    gets = {"TransactItems": [{"Get": {"TableName": "a"}}]}
    assert required_permissions("TransactGetItems", gets, arn) == [("dynamodb:GetItem", arn("a"))]


def test_requests_without_a_readable_table_are_checked_on_every_resource() -> None:
    """ListTables, PartiQL, or a body of the wrong shape: `*`, so only a principal allowed everywhere passes."""
    assert required_permissions("ListTables", {}, arn) == [("dynamodb:ListTables", "*")]
    assert required_permissions("ExecuteStatement", {"Statement": "SELECT * FROM t"}, arn) == [
        ("dynamodb:ExecuteStatement", "*")
    ]
    assert required_permissions("TransactWriteItems", {"TransactItems": [{"Put": {}}]}, arn) == [
        ("dynamodb:TransactWriteItems", "*")
    ]
    assert required_permissions("BatchGetItem", {"RequestItems": ["t"]}, arn) == [
        ("dynamodb:BatchGetItem", "*")
    ]
