"""The greenhouse project's rules, policy and function, run against localcore by its pytest plugin (the plugin
finds the project through [tool.iotstream] in pyproject.toml)."""

from __future__ import annotations

import json

from localcore.pytest_plugin import MqttClientFactory

NOT_AUTHORIZED = 0x87  # MQTT 5 PUBACK reason code


def test_a_hot_reading_raises_an_alert_and_a_status(mqtt_client: MqttClientFactory) -> None:
    """heat_alert republishes the reading; the readings function publishes the status through iot-data."""
    device = mqtt_client("greenhouse-1")
    device.subscribe([("greenhouse/greenhouse-1/alerts", 1), ("greenhouse/greenhouse-1/status", 1)])

    device.publish("greenhouse/greenhouse-1/readings", json.dumps({"temperature": 41, "humidity": 50}), qos=1)

    by_topic = {message.topic: json.loads(message.payload) for message in device.expect(2, timeout=30)}
    assert by_topic["greenhouse/greenhouse-1/alerts"]["temperature"] == 41
    assert by_topic["greenhouse/greenhouse-1/status"]["status"] == "too hot"


def test_the_env_file_reaches_the_function(mqtt_client: MqttClientFactory) -> None:
    """MIN_HUMIDITY_PCT comes from functions.env (`env_file` in [tool.iotstream])."""
    device = mqtt_client("greenhouse-2")
    device.subscribe("greenhouse/greenhouse-2/status", qos=1)

    device.publish("greenhouse/greenhouse-2/readings", json.dumps({"temperature": 20, "humidity": 10}), qos=1)

    (status,) = device.expect(1, timeout=30)
    assert json.loads(status.payload)["status"] == "too dry"


def test_a_greenhouse_cannot_publish_for_another(mqtt_client: MqttClientFactory) -> None:
    """device.json allows greenhouse/${iot:ClientId}/readings only."""
    device = mqtt_client("greenhouse-3")
    assert device.publish("greenhouse/greenhouse-1/readings", json.dumps({"temperature": 1}), qos=1) == (
        NOT_AUTHORIZED
    )
