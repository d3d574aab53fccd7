"""The `kinesis`, `firehose` and `cloudwatchMetric` rule actions, read back with boto3.

AWS pages: https://docs.aws.amazon.com/iot/latest/developerguide/kinesis-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/kinesis-firehose-rule-action.html,
https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-metrics-rule-action.html.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.support.rule_actions import ACCOUNT, REGION, Rules, unique


def test_kinesis_puts_the_output_with_the_templated_partition_key(rules: Rules) -> None:
    """kinesis-rule-action.html: PutRecord to `streamName` with `partitionKey` (`${topic(2)}` rendered);
    the role needs `kinesis:PutRecord`."""
    kinesis, stream = rules.stack.client("kinesis"), unique("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
    role = rules.role({"Action": "kinesis:PutRecord", "Resource": arn})
    topic = unique("meters")
    action = {"streamName": stream, "partitionKey": "${topic(2)}", "roleArn": role}
    rules.rule(f"SELECT kwh FROM '{topic}/+'", [{"kinesis": action}])
    rules.publish(f"{topic}/m7", {"kwh": 1.25})
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (record,) = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert (json.loads(record["Data"]), record["PartitionKey"]) == ({"kwh": 1.25}, "m7")


def test_kinesis_to_a_missing_stream_runs_the_error_action(rules: Rules) -> None:
    """A stream that does not exist: Kinesis answers ResourceNotFoundException, the errorAction names
    KinesisAction and the stream (rule-error-handling.html)."""
    stream = unique("missing")
    role = rules.role({"Action": "kinesis:PutRecord", "Resource": "*"})
    sink, errors = rules.error_sink()
    topic = unique("meters")
    rules.rule(f"SELECT * FROM '{topic}'", [{"kinesis": {"streamName": stream, "roleArn": role}}], sink)
    rules.publish(topic, {"kwh": 1})
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("KinesisAction", stream)
    assert "Error Code: ResourceNotFoundException" in failure["errorMessage"]


def _delivery_stream(rules: Rules) -> tuple[str, str, str]:
    """A Firehose stream delivering to a new S3 bucket: (stream name, its ARN, the bucket)."""
    bucket, name = unique("firehose-out"), unique("delivery")
    rules.stack.client("s3").create_bucket(Bucket=bucket)
    rules.stack.client("firehose").create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
        },
    )
    return name, f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}", bucket


def _delivered(rules: Rules, bucket: str) -> list[bytes]:
    """What the stream wrote to its bucket, one entry per object, sorted (object keys need not follow the
    order records were put in)."""
    s3 = rules.stack.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return sorted(s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys)


def test_firehose_appends_the_separator_to_each_record(rules: Rules) -> None:
    """kinesis-firehose-rule-action.html: PutRecord of the output followed by `separator` ("\\n" here);
    the role needs `firehose:PutRecord`."""
    name, arn, bucket = _delivery_stream(rules)
    role = rules.role({"Action": "firehose:PutRecord", "Resource": arn})
    topic = unique("logs")
    rules.rule(
        f"SELECT line FROM '{topic}'",
        [{"firehose": {"deliveryStreamName": name, "separator": "\n", "roleArn": role}}],
    )
    rules.publish(topic, {"line": "first"})
    rules.publish(topic, {"line": "second"})
    assert _delivered(rules, bucket) == [b'{"line":"first"}\n', b'{"line":"second"}\n']


def test_firehose_batch_mode_sends_each_array_element_as_a_record(rules: Rules) -> None:
    """kinesis-firehose-rule-action.html: with `batchMode` and an array SELECT output, each element is one
    record of a PutRecordBatch (the role needs `firehose:PutRecordBatch`)."""
    name, arn, bucket = _delivery_stream(rules)
    role = rules.role({"Action": "firehose:PutRecordBatch", "Resource": arn})
    topic = unique("batches")
    action = {"deliveryStreamName": name, "separator": ",", "batchMode": True, "roleArn": role}
    rules.rule(f"SELECT VALUE readings FROM '{topic}'", [{"firehose": action}])
    rules.publish(topic, {"readings": [{"t": 1}, {"t": 2}, 3]})
    assert _delivered(rules, bucket) == [b'{"t":1},{"t":2},3,']


def test_firehose_batch_mode_needs_an_array(rules: Rules) -> None:
    """batchMode needs the SQL to evaluate to an array: anything else fails FirehoseAction (errorAction)."""
    name, arn, _ = _delivery_stream(rules)
    role = rules.role({"Action": "firehose:PutRecordBatch", "Resource": arn})
    sink, errors = rules.error_sink()
    topic = unique("batches")
    rules.rule(
        f"SELECT * FROM '{topic}'",
        [{"firehose": {"deliveryStreamName": name, "batchMode": True, "roleArn": role}}],
        sink,
    )
    rules.publish(topic, {"not": "an array"})
    (error,) = rules.errors(errors)
    (failure,) = error["failures"]
    assert (failure["failedAction"], failure["failedResource"]) == ("FirehoseAction", name)
    assert "JSON array" in failure["errorMessage"]


def test_cloudwatch_metric_renders_every_field(rules: Rules) -> None:
    """cloudwatch-metrics-rule-action.html: namespace, name, value, unit and timestamp (Unix seconds) are
    all substitution templates; PutMetricData needs `cloudwatch:PutMetricData` (resource `*`)."""
    role = rules.role({"Action": "cloudwatch:PutMetricData", "Resource": "*"})
    namespace, topic = unique("Greenhouse"), unique("sensors")
    action = {
        "metricNamespace": namespace,
        "metricName": "${topic(2)}-temperature",
        "metricValue": "${temperature}",
        "metricUnit": "${unit}",
        "metricTimestamp": "${at}",
        "roleArn": role,
    }
    rules.rule(f"SELECT * FROM '{topic}/+'", [{"cloudwatchMetric": action}])
    rules.publish(f"{topic}/g1", {"temperature": 30.5, "unit": "Count", "at": 1700000000})
    cloudwatch = rules.stack.client("cloudwatch")
    (metric,) = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert metric["MetricName"] == "g1-temperature"
    statistics = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="g1-temperature",
        StartTime=datetime(2023, 11, 14, tzinfo=UTC),
        EndTime=datetime(2023, 11, 15, tzinfo=UTC),
        Period=60,
        Statistics=["Maximum"],
    )
    (point,) = statistics["Datapoints"]
    assert (point["Maximum"], point["Unit"], point["Timestamp"]) == (
        30.5,
        "Count",
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
    )


def test_cloudwatch_metric_with_a_bad_value_or_unit_runs_the_error_action(rules: Rules) -> None:
    """A value that is not a number or a unit CloudWatch does not have fails CloudwatchMetricAction; one
    errorAction message holds both failures (rule-error-handling.html: one message per rule and message)."""
    role = rules.role({"Action": "cloudwatch:PutMetricData", "Resource": "*"})
    sink, errors = rules.error_sink()
    topic = unique("sensors")
    base = {"metricNamespace": "ns", "metricName": "m", "roleArn": role}
    actions = [
        {"cloudwatchMetric": {**base, "metricValue": "${v}", "metricUnit": "Count"}},
        {"cloudwatchMetric": {**base, "metricValue": "1", "metricUnit": "Parsecs"}},
    ]
    rules.rule(f"SELECT * FROM '{topic}'", actions, sink)
    rules.publish(topic, {"v": "warm"})
    (error,) = rules.errors(errors)
    first, second = error["failures"]
    assert {first["failedAction"], second["failedAction"]} == {"CloudwatchMetricAction"}
    assert "'warm' is not a number" in first["errorMessage"]
    assert "'Parsecs' is not a CloudWatch unit" in second["errorMessage"]
