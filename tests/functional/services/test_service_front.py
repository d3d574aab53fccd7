"""The AWS data services behind localcore's SigV4 + IAM front: boto3 reaches each through the exported
`AWS_ENDPOINT_URL_<SERVICE>` variables (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html),
and a caller's role decides, service by service, with each service's own refusal code.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from boto3.session import Session
from botocore.exceptions import ClientError

from localcore.testing import RunningLocalcore

ACCOUNT, REGION = "000000000000", "us-east-1"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _allow(action: str, resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }


def test_the_exported_variables_point_unchanged_boto3_code_at_every_service(
    stack: RunningLocalcore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 reads `AWS_ENDPOINT_URL_<SERVICE>`; `iotstream up` exports one per service (the ready file's
    `environment`), so code written for AWS runs unchanged."""
    environment = stack.endpoints["environment"]
    for variable in ("SQS", "SNS", "S3", "KINESIS", "FIREHOSE", "CLOUDWATCH", "DYNAMODB", "IAM"):
        assert environment[f"AWS_ENDPOINT_URL_{variable}"] == stack.url
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", stack.core.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", stack.core.admin.secret_access_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    aws = Session()  # what `aws.client(...)` is in a fresh process: it reads the environment
    queue = aws.client("sqs").create_queue(QueueName=_name("q"))["QueueUrl"]
    assert queue.startswith(f"{stack.url}/{ACCOUNT}/")
    assert (
        aws.client("sns")
        .create_topic(Name=_name("t"))["TopicArn"]
        .startswith(f"arn:aws:sns:{REGION}:{ACCOUNT}:")
    )
    bucket = _name("b")
    aws.client("s3").create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    stream = _name("s")
    aws.client("kinesis").create_stream(StreamName=stream, ShardCount=1)
    description = aws.client("kinesis").describe_stream(StreamName=stream)["StreamDescription"]
    assert description["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
    assert "DeliveryStreamNames" in aws.client("firehose").list_delivery_streams()
    aws.client("cloudwatch").put_metric_data(
        Namespace="front-test", MetricData=[{"MetricName": "m", "Value": 1.0}]
    )
    assert {"Namespace": "front-test", "MetricName": "m", "Dimensions": []} in aws.client(
        "cloudwatch"
    ).list_metrics(Namespace="front-test")["Metrics"]
    assert "TableNames" in aws.client("dynamodb").list_tables()
    assert "Roles" in aws.client("iam").list_roles()


def test_s3_keys_are_stored_as_sent(stack: RunningLocalcore) -> None:
    """S3 signs the path literally, encoded once: `a//b c/%2F` is one key, slashes and all
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)."""
    s3, bucket, key = stack.client("s3"), _name("b"), "a//b c/d%2Fe"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"hello"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 5


Case = tuple[str, str, Callable[[Any, str], Any], str]
CASES: list[Case] = [
    # service, IAM action the role is given, a call on the resource named by `name`, code when refused
    ("sqs", "sqs:SendMessage", lambda c, url: c.send_message(QueueUrl=url, MessageBody="x"), "AccessDenied"),
    ("sns", "sns:Publish", lambda c, arn: c.publish(TopicArn=arn, Message="x"), "AuthorizationError"),
    ("s3", "s3:PutObject", lambda c, bucket: c.put_object(Bucket=bucket, Key="k", Body=b"x"), "AccessDenied"),
    (
        "kinesis",
        "kinesis:PutRecord",
        lambda c, stream: c.put_record(StreamName=stream, Data=b"x", PartitionKey="p"),
        "AccessDeniedException",
    ),
    (
        "dynamodb",
        "dynamodb:PutItem",
        lambda c, table: c.put_item(TableName=table, Item={"id": {"S": "x"}}),
        "AccessDeniedException",
    ),
]


def _resource(stack: RunningLocalcore, service: str) -> tuple[str, str]:
    """A fresh resource of the service: (what the call names, its ARN)."""
    name = _name(service)
    if service == "sqs":
        return stack.client("sqs").create_queue(QueueName=name)[
            "QueueUrl"
        ], f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    if service == "sns":
        arn = stack.client("sns").create_topic(Name=name)["TopicArn"]
        return arn, arn
    if service == "s3":
        stack.client("s3").create_bucket(Bucket=name)
        return name, f"arn:aws:s3:::{name}/*"
    if service == "kinesis":
        stack.client("kinesis").create_stream(StreamName=name, ShardCount=1)
        return name, f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"
    stack.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


@pytest.mark.parametrize(("service", "action", "call", "code"), CASES, ids=[case[0] for case in CASES])
def test_a_role_reaches_only_the_resources_its_policy_names(
    stack: RunningLocalcore,
    client_as: Callable[[str, dict[str, Any]], Any],
    service: str,
    action: str,
    call: Callable[[Any, str], Any],
    code: str,
) -> None:
    """IAM: an identity policy allowing the action on one resource allows it there and nowhere else; the
    refusal is the service's own code (SQS AccessDenied, troubleshooting-access-denied.html in the SQS guide;
    SNS AuthorizationError, https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html; S3 AccessDenied,
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; Kinesis and DynamoDB
    AccessDeniedException, their CommonErrors pages)."""
    allowed, arn = _resource(stack, service)
    other, _ = _resource(stack, service)
    client = client_as(service, _allow(action, arn))
    call(client, allowed)
    with pytest.raises(ClientError) as refused:
        call(client, other)
    assert refused.value.response["Error"]["Code"] == code
    assert action in refused.value.response["Error"]["Message"]


def test_cloudwatch_and_iam_refusals(
    stack: RunningLocalcore, client_as: Callable[[str, dict[str, Any]], Any]
) -> None:
    """CloudWatch's PutMetricData has no resource (`*`) and IAM is global: a role without the action is
    refused with AccessDenied (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html,
    https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html)."""
    metrics = client_as("cloudwatch", _allow("cloudwatch:PutMetricData", "*"))
    metrics.put_metric_data(Namespace="front-test", MetricData=[{"MetricName": "allowed", "Value": 1.0}])
    with pytest.raises(ClientError) as refused:
        metrics.list_metrics()
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    iam = client_as("iam", _allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/some-role"))
    with pytest.raises(ClientError) as refused:
        iam.create_role(
            RoleName=_name("r"), AssumeRolePolicyDocument=json.dumps(_allow("sts:AssumeRole", "*"))
        )
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
        ("sns", lambda c: c.list_topics(), "SignatureDoesNotMatch"),
        ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException"),
    ],
    ids=["s3", "sns", "dynamodb"],
)
def test_a_wrong_secret_is_refused_in_the_services_shape(
    stack: RunningLocalcore, service: str, call: Callable[[Any], Any], code: str
) -> None:
    """SigV4: a signature made with the wrong secret is refused, with S3's and query services'
    SignatureDoesNotMatch (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and the JSON
    services' InvalidSignatureException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html)."""
    client = stack.client(service, secret_key="wrong" + stack.core.admin.secret_access_key)
    with pytest.raises(ClientError) as refused:
        call(client)
    assert refused.value.response["Error"]["Code"] == code


def test_motos_own_admin_routes_are_not_served(stack: RunningLocalcore) -> None:
    """Only signed requests reach moto: its reset and dashboard routes (`/moto-api/...`) do not exist here."""
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(urllib.request.Request(f"{stack.url}/moto-api/reset", method="POST"))
    assert missing.value.code == 404
