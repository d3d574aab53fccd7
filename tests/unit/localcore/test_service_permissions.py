"""What each request to the AWS data services needs from IAM. DynamoDB ("Actions, resources, and condition
keys for Amazon DynamoDB", https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html; transactions:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)."""

from __future__ import annotations

from localcore.services.permissions.dynamodb import required_permissions
from localcore.services.permissions.named import kinesis_needs, sns_needs, sqs_needs
from localcore.services.permissions.place import Place
from localcore.services.permissions.s3 import s3_needs
from localcore.services.requests import ServiceRequest


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


PLACE = Place("us-east-1", "000000000000")


def test_s3_operations_are_authorized_as_s3_names_them() -> None:
    """list_amazons3.html / using-with-s3-policy-actions.html: ListObjectsV2 is s3:ListBucket on the bucket,
    HeadObject s3:GetObject on the object; a copy also needs s3:GetObject on its source."""
    assert s3_needs(ServiceRequest("ListObjectsV2", "rest-xml", {"Bucket": "b"}), PLACE) == [
        ("s3:ListBucket", "arn:aws:s3:::b")
    ]
    assert s3_needs(ServiceRequest("HeadObject", "rest-xml", {"Bucket": "b", "Key": "k/1"}), PLACE) == [
        ("s3:GetObject", "arn:aws:s3:::b/k/1")
    ]
    copy = {"Bucket": "b", "Key": "k", "x-amz-copy-source": "/src/a%20b"}
    assert s3_needs(ServiceRequest("CopyObject", "rest-xml", copy), PLACE) == [
        ("s3:PutObject", "arn:aws:s3:::b/k"),
        ("s3:GetObject", "arn:aws:s3:::src/a b"),
    ]
    assert s3_needs(ServiceRequest("ListBuckets", "rest-xml", {}), PLACE) == [("s3:ListAllMyBuckets", "*")]


def test_queues_topics_and_streams_are_read_from_the_request() -> None:
    """list_amazonsqs.html: SendMessageBatch is sqs:SendMessage on the queue the URL names;
    list_amazonsns.html: Unsubscribe is checked on the subscription's topic; kinesis: the stream's ARN."""
    url = "http://127.0.0.1:4566/000000000000/orders"
    assert sqs_needs(ServiceRequest("SendMessageBatch", "json", {"QueueUrl": url}), PLACE) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:orders")
    ]
    subscription = "arn:aws:sns:us-east-1:000000000000:alerts:5f0c"
    assert sns_needs(ServiceRequest("Unsubscribe", "query", {"SubscriptionArn": subscription}), PLACE) == [
        ("sns:Unsubscribe", "arn:aws:sns:us-east-1:000000000000:alerts")
    ]
    assert kinesis_needs(ServiceRequest("PutRecord", "json", {"StreamName": "s"}), PLACE) == [
        ("kinesis:PutRecord", "arn:aws:kinesis:us-east-1:000000000000:stream/s")
    ]
    assert sqs_needs(ServiceRequest("ListQueues", "json", {}), PLACE) == [("sqs:ListQueues", "*")]
