"""What the AWS-service rule actions write: each action's parameters and the rule's SELECT output turned
into the API call(s) AWS IoT makes, as the action's role.

Every planner renders the parameters AWS documents as substitution templates (each action's page in the AWS
IoT developer guide, cited below), encodes the payload as that page says, and returns a `Plan`: the calls,
the resource an errorAction names (`failedResource`) and the words of its failure. A payload the action
cannot take (SQS and SNS send text; DynamoDBv2 writes a JSON object's attributes) fails the action.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from localcore.http.operations import service_model
from localcore.rules.actions import ActionFailed, Render, serialise_output
from localcore.rules.service_calls import Plan, ServiceCall

# "The resulting array can't have more than 500 records" (kinesis-firehose-rule-action.html)
MAX_FIREHOSE_BATCH = 500
# CloudWatch's units, from its API model (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html)
METRIC_UNITS = frozenset(service_model("cloudwatch").shape_for("StandardUnit").metadata["enum"])


def _text(kind: str, resource: str, output: Any) -> str:
    """The SELECT output as message text; raw bytes must be UTF-8 (SQS and SNS carry text only)."""
    try:
        return serialise_output(output).decode("utf-8")
    except UnicodeDecodeError:
        raise ActionFailed(
            kind,
            resource,
            "the payload is binary and this action sends text; use encode(*, 'base64') or useBase64",
        ) from None


def plan_sqs(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """sqs-rule-action.html: SendMessage to `queueUrl` (templates), base64 first when `useBase64`."""
    queue = render(str(params["queueUrl"]))
    if params.get("useBase64"):
        body = base64.b64encode(serialise_output(output)).decode()
    else:
        body = _text("sqs", queue, output)
    call = ServiceCall("sqs", "SendMessage", {"QueueUrl": queue, "MessageBody": body}, str(params["roleArn"]))
    return Plan("sqs", queue, "Failed to send message to SQS queue", f"Queue: {queue}", (call,))


def plan_sns(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """sns-rule-action.html: Publish to `targetArn` (templates); `messageFormat` JSON publishes with
    MessageStructure=json (SNS then picks each protocol's message from the JSON), RAW (default) as is."""
    target = render(str(params["targetArn"]))
    request: dict[str, Any] = {"TargetArn": target, "Message": _text("sns", target, output)}
    if params.get("messageFormat") == "JSON":
        request["MessageStructure"] = "json"
    call = ServiceCall("sns", "Publish", request, str(params["roleArn"]))
    return Plan("sns", target, "Failed to publish SNS message", f"Target: {target}", (call,))


def plan_s3(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """s3-rule-action.html: PutObject of the SELECT output (binary as is) at `bucketName`/`key` (both
    templates), with `cannedAcl` when given."""
    bucket, key = render(str(params["bucketName"])), render(str(params["key"]))
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": serialise_output(output)}
    if params.get("cannedAcl"):
        request["ACL"] = str(params["cannedAcl"])
    call = ServiceCall("s3", "PutObject", request, str(params["roleArn"]))
    return Plan("s3", bucket, "Failed to put S3 object", f'Bucket: {bucket}, Key: "{key}"', (call,))


def plan_kinesis(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """kinesis-rule-action.html: PutRecord to `streamName` with `partitionKey` (both templates). AWS does
    not document a missing partitionKey; localcore uses a new UUID for each record."""
    stream = render(str(params["streamName"]))
    key = render(str(params["partitionKey"])) if params.get("partitionKey") else str(uuid.uuid4())
    request = {"StreamName": stream, "Data": serialise_output(output), "PartitionKey": key}
    call = ServiceCall("kinesis", "PutRecord", request, str(params["roleArn"]))
    return Plan(
        "kinesis", stream, "Failed to put Kinesis record", f"Stream: {stream}, PartitionKey: {key}", (call,)
    )


def plan_firehose(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """kinesis-firehose-rule-action.html: PutRecord of the output followed by `separator`; with `batchMode`
    the output must be a JSON array, each element one record of a PutRecordBatch (at most 500)."""
    stream = render(str(params["deliveryStreamName"]))
    separator = str(params.get("separator") or "").encode()
    role = str(params["roleArn"])
    details = f"DeliveryStream: {stream}"
    if not params.get("batchMode"):
        record = {"Data": serialise_output(output) + separator}
        call = ServiceCall("firehose", "PutRecord", {"DeliveryStreamName": stream, "Record": record}, role)
        return Plan("firehose", stream, "Failed to put Firehose record", details, (call,))
    if not isinstance(output, list) or not output or len(output) > MAX_FIREHOSE_BATCH:
        raise ActionFailed(
            "firehose",
            stream,
            f"batchMode needs the SELECT output to be a JSON array of 1 to {MAX_FIREHOSE_BATCH} elements",
        )
    records = [{"Data": serialise_output(item) + separator} for item in output]
    call = ServiceCall("firehose", "PutRecordBatch", {"DeliveryStreamName": stream, "Records": records}, role)
    return Plan("firehose", stream, "Failed to put Firehose record batch", details, (call,), _failed_records)


def _failed_records(answer: Mapping[str, Any]) -> str | None:
    failed = int(answer.get("FailedPutCount", 0))
    return f"{failed} of the batch's records were not put" if failed else None


def plan_cloudwatch_metric(params: Mapping[str, Any], output: Any, render: Render) -> Plan:
    """cloudwatch-metrics-rule-action.html: PutMetricData of one datum; namespace, name, value, unit and
    timestamp (Unix seconds, default now) are all templates. A value that is not a number, or a unit that is
    not one of CloudWatch's, fails the action as CloudWatch would refuse it."""
    namespace, name = render(str(params["metricNamespace"])), render(str(params["metricName"]))
    value_text, unit = render(str(params["metricValue"])), render(str(params["metricUnit"]))
    resource = f"{namespace}/{name}"
    try:
        value = float(value_text)
    except ValueError:
        raise ActionFailed(
            "cloudwatchMetric", resource, f"the metric value {value_text!r} is not a number"
        ) from None
    if unit not in METRIC_UNITS:
        raise ActionFailed("cloudwatchMetric", resource, f"{unit!r} is not a CloudWatch unit")
    stamp = render(str(params["metricTimestamp"])) if params.get("metricTimestamp") else ""
    try:
        when = datetime.fromtimestamp(float(stamp), UTC) if stamp else datetime.now(UTC)
    except (ValueError, OverflowError, OSError):
        raise ActionFailed(
            "cloudwatchMetric", resource, f"the timestamp {stamp!r} is not Unix seconds"
        ) from None
    datum = {"MetricName": name, "Value": value, "Unit": unit, "Timestamp": when}
    call = ServiceCall(
        "cloudwatch", "PutMetricData", {"Namespace": namespace, "MetricData": [datum]}, str(params["roleArn"])
    )
    return Plan(
        "cloudwatchMetric", resource, "Failed to put CloudWatch metric", f"Metric: {resource}", (call,)
    )
