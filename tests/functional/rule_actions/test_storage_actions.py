"""The `s3`, `dynamoDBv2` and `dynamoDB` rule actions, read back with boto3.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/s3-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-v2-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.rule_actions import ACCOUNT, REGION, Rules, unique

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _table(
    rules: Rules, hash_key: tuple[str, str], range_key: tuple[str, str] | None = None
) -> tuple[str, str]:
    """A new table keyed as given ((name, S|N) pairs): (name, ARN)."""
    name = unique("table")
    keys = [(hash_key, "HASH"), *([(range_key, "RANGE")] if range_key else [])]
    rules.stack.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key[0], "KeyType": kind} for key, kind in keys],
        AttributeDefinitions=[{"AttributeName": key[0], "AttributeType": key[1]} for key, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    return name, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _item(rules: Rules, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        rules.stack.client("dynamodb").get_item(TableName=table, Key=key).get("Item")
    )
    return item


def test_s3_writes_the_output_at_the_templated_key_with_the_canned_acl(rules: Rules) -> None:
    """s3-rule-action.html: PutObject of the SELECT output to `bucketName` at `key` (`${topic()}/...`
    rendered per message); `cannedAcl` public-read grants AllUsers READ; the role needs `s3:PutObject`."""
    s3, bucket = rules.stack.client("s3"), unique("bucket")
    s3.create_bucket(Bucket=bucket)
    role = rules.role({"Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": f"arn:aws:s3:::{bucket}/*"})
    topic = unique("photos")
    action = {
        "bucketName": bucket,
        "key": "${topic()}/${clientid()}.json",
        "cannedAcl": "public-read",
        "roleArn": role,
    }
    rules.rule(f"SELECT * FROM '{topic}'", [{"s3": action}])
    rules.publish(topic, {"frame": 7}, client_id="cam-2")
    body = s3.get_object(Bucket=bucket, Key=f"{topic}/cam-2.json")["Body"].read()
    assert json.loads(body) == {"frame": 7}
    grants = s3.get_object_acl(Bucket=bucket, Key=f"{topic}/cam-2.json")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants


def test_s3_stores_binary_payloads_unchanged(rules: Rules) -> None:
    """binary-payloads.html: `SELECT *` of a non-JSON payload passes the bytes through to S3."""
    s3, bucket = rules.stack.client("s3"), unique("bucket")
    s3.create_bucket(Bucket=bucket)
    role = rules.role({"Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    topic = unique("raw")
    rules.rule(
        f"SELECT * FROM '{topic}'", [{"s3": {"bucketName": bucket, "key": "frame.bin", "roleArn": role}}]
    )
    rules.publish(topic, b"\x89PNG\x00\xff")
    assert s3.get_object(Bucket=bucket, Key="frame.bin")["Body"].read() == b"\x89PNG\x00\xff"


def test_s3_to_a_missing_bucket_gives_aws_error_message(rules: Rules) -> None:
    """rule-error-handling.html's own example: a missing bucket fails S3Action with "Failed to put S3 object.
    The error received was The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error
    Code: NoSuchBucket; ...). Message arrived on: <topic>, Action: s3, Bucket: <bucket>, Key: \\"<key>\\"",
    failedResource the bucket."""
    bucket = unique("missing")
    role = rules.role({"Action": "s3:PutObject", "Resource": "*"})
    sink, errors = rules.error_sink()
    topic = unique("error/action")
    rules.rule(
        f"SELECT * FROM '{topic}'", [{"s3": {"bucketName": bucket, "key": "aaa", "roleArn": role}}], sink
    )
    rules.publish(topic, {"message": "Hello"})
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("S3Action", bucket)
    message = failure["errorMessage"]
    assert message.startswith(
        "Failed to put S3 object. The error received was The specified bucket does not exist"
    )
    assert "(Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket; Request ID: " in message
    assert message.endswith(f'Message arrived on: {topic}, Action: s3, Bucket: {bucket}, Key: "aaa"')


def test_dynamodb_v2_writes_each_attribute_as_a_column(rules: Rules) -> None:
    """dynamodb-v2-rule-action.html: PutItem into `putItem.tableName` (templates), each top-level attribute of
    the SELECT output one attribute, typed as DynamoDB types JSON (S, N, BOOL, NULL, M, L)."""
    table, arn = _table(rules, ("device", "S"), ("ts", "N"))
    role = rules.role({"Action": "dynamodb:PutItem", "Resource": arn})
    topic = unique("readings")
    sql = f"SELECT topic(2) AS device, ts, temp, ok, note, tags, wind FROM '{topic}/+'"
    rules.rule(sql, [{"dynamoDBv2": {"putItem": {"tableName": table}, "roleArn": role}}])
    reading = {
        "ts": 1700000000,
        "temp": 21.5,
        "ok": True,
        "note": None,
        "tags": ["a", 1],
        "wind": {"speed": 3},
    }
    rules.publish(f"{topic}/d1", reading)
    assert _item(rules, table, {"device": {"S": "d1"}, "ts": {"N": "1700000000"}}) == {
        "device": {"S": "d1"},
        "ts": {"N": "1700000000"},
        "temp": {"N": "21.5"},
        "ok": {"BOOL": True},
        "note": {"NULL": True},
        "tags": {"L": [{"S": "a"}, {"N": "1"}]},
        "wind": {"M": {"speed": {"N": "3"}}},
    }


def test_dynamodb_v2_without_the_key_runs_the_error_action(rules: Rules) -> None:
    """dynamodb-v2-rule-action.html: the payload must hold the table's key; DynamoDB refuses the item
    (ValidationException) and the errorAction names DynamoDBv2Action and the table."""
    table, arn = _table(rules, ("device", "S"))
    role = rules.role({"Action": "dynamodb:PutItem", "Resource": arn})
    sink, errors = rules.error_sink()
    topic = unique("readings")
    rules.rule(
        f"SELECT temp FROM '{topic}'",
        [{"dynamoDBv2": {"putItem": {"tableName": table}, "roleArn": role}}],
        sink,
    )
    rules.publish(topic, {"temp": 3})
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("DynamoDBv2Action", table)
    assert "Error Code: ValidationException" in failure["errorMessage"]


def test_dynamodb_writes_typed_keys_and_the_payload_column(rules: Rules) -> None:
    """dynamodb-rule-action.html: hash and range keys from templates, typed by `hashKeyType`/`rangeKeyType`;
    the whole SELECT output in `payloadField` (a JSON object as a map); INSERT by default."""
    table, arn = _table(rules, ("device", "S"), ("ts", "N"))
    role = rules.role({"Action": "dynamodb:PutItem", "Resource": arn})
    topic = unique("history")
    action = {
        "tableName": table,
        "hashKeyField": "device",
        "hashKeyValue": "${topic(2)}",
        "hashKeyType": "STRING",
        "rangeKeyField": "ts",
        "rangeKeyValue": "${ts}",
        "rangeKeyType": "NUMBER",
        "payloadField": "data",
        "roleArn": role,
    }
    rules.rule(f"SELECT temp, wind.speed AS wind FROM '{topic}/+'", [{"dynamoDB": action}])
    rules.publish(f"{topic}/d4", {"ts": 17, "temp": 28, "wind": {"speed": 22}})
    assert _item(rules, table, {"device": {"S": "d4"}, "ts": {"N": "17"}}) == {
        "device": {"S": "d4"},
        "ts": {"N": "17"},
        "data": {"M": {"temp": {"N": "28"}, "wind": {"N": "22"}}},
    }


def test_dynamodb_writes_non_json_as_binary_and_can_update_and_delete(rules: Rules) -> None:
    """dynamodb-rule-action.html: "This rule writes non-JSON data to DynamoDB as binary data" (in the default
    `payload` column); `operation` (a template) UPDATE changes the payload column, DELETE removes the item."""
    table, arn = _table(rules, ("id", "S"))
    role = rules.role(
        {"Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], "Resource": arn}
    )
    topic = unique("blobs")
    action = {
        "tableName": table,
        "hashKeyField": "id",
        "hashKeyValue": "${topic(3)}",
        "operation": "${topic(2)}",
        "roleArn": role,
    }
    rules.rule(f"SELECT * FROM '{topic}/+/+'", [{"dynamoDB": action}])
    rules.publish(f"{topic}/INSERT/x", b"\x01\x02")
    assert _item(rules, table, {"id": {"S": "x"}}) == {"id": {"S": "x"}, "payload": {"B": b"\x01\x02"}}
    rules.publish(f"{topic}/UPDATE/x", {"v": 2})
    assert _item(rules, table, {"id": {"S": "x"}}) == {"id": {"S": "x"}, "payload": {"M": {"v": {"N": "2"}}}}
    rules.publish(f"{topic}/DELETE/x", {"v": 3})
    assert _item(rules, table, {"id": {"S": "x"}}) is None


def test_dynamodb_number_key_that_is_not_a_number_runs_the_error_action(rules: Rules) -> None:
    """`hashKeyType` NUMBER needs a number: a rendered value that is not one fails DynamoDBAction."""
    table, arn = _table(rules, ("n", "N"))
    role = rules.role({"Action": "dynamodb:PutItem", "Resource": arn})
    sink, errors = rules.error_sink()
    topic = unique("numbers")
    action = {
        "tableName": table,
        "hashKeyField": "n",
        "hashKeyValue": "${n}",
        "hashKeyType": "NUMBER",
        "roleArn": role,
    }
    rules.rule(f"SELECT * FROM '{topic}'", [{"dynamoDB": action}], sink)
    rules.publish(topic, {"n": "seven"})
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("DynamoDBAction", table)
    assert "'seven' is not a NUMBER" in failure["errorMessage"]
