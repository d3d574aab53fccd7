"""The `readings` function: invoked by the readings_to_function rule with its SELECT output, it publishes the
greenhouse's status to `greenhouse/{id}/status` through iot-data (boto3 finds localcore through the
AWS_ENDPOINT_URL_* variables localcore sets; on AWS, through the account's iot:Data-ATS endpoint)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

iot_data = boto3.client("iot-data")
MAX_TEMPERATURE_C = float(os.environ["MAX_TEMPERATURE_C"])
MIN_HUMIDITY_PCT = float(os.environ.get("MIN_HUMIDITY_PCT", "0"))


def status_of(temperature: float, humidity: float) -> str:
    if temperature > MAX_TEMPERATURE_C:
        return "too hot"
    if humidity < MIN_HUMIDITY_PCT:
        return "too dry"
    return "ok"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    status = {
        "greenhouse": event["greenhouse"],
        "status": status_of(float(event["temperature"]), float(event.get("humidity", 100))),
        "request": context.aws_request_id,
    }
    print(f"greenhouse {event['greenhouse']}: {status['status']}")
    iot_data.publish(topic=f"greenhouse/{event['greenhouse']}/status", qos=1, payload=json.dumps(status))
    return status
