"""Tests for the temperature_alert rule and the sensor policy, run against localcore by its pytest plugin."""

from __future__ import annotations

import json

from localcore.pytest_plugin import MqttClientFactory
from localcore.testing import RunningLocalcore

NOT_AUTHORIZED = 0x87  # MQTT 5 PUBACK reason code


def test_hot_reading_raises_an_alert(mqtt_client: MqttClientFactory) -> None:
    """A reading over 50 is republished to alerts/<sensor> with the sensor taken from the topic."""
    operator = mqtt_client("ops-console")
    operator.subscribe("alerts/+", qos=1)
    sensor = mqtt_client("sensor-7")

    sensor.publish("sensors/sensor-7/reading", json.dumps({"temperature": 72, "unit": "C"}), qos=1)

    (alert,) = operator.expect(1)
    assert alert.topic == "alerts/sensor-7"
    body = json.loads(alert.payload)
    assert body["temperature"] == 72
    assert body["sensor"] == "sensor-7"
    assert "unit" not in body


def test_normal_reading_raises_no_alert(localcore: RunningLocalcore, mqtt_client: MqttClientFactory) -> None:
    """WHERE temperature > 50 is false for 21: only the second reading raises an alert."""
    operator = mqtt_client("ops-console-2")
    operator.subscribe("alerts/sensor-8", qos=1)
    sensor = mqtt_client("sensor-8")

    sensor.publish("sensors/sensor-8/reading", json.dumps({"temperature": 21}), qos=1)
    sensor.publish("sensors/sensor-8/reading", json.dumps({"temperature": 51}), qos=1)

    operator.expect(1)
    localcore.wait_rules_idle()
    assert [json.loads(m.payload)["temperature"] for m in operator.received] == [51]


def test_a_sensor_cannot_publish_for_another(mqtt_client: MqttClientFactory) -> None:
    """The policy allows sensors/${iot:ClientId}/reading only."""
    sensor = mqtt_client("sensor-9")
    assert (
        sensor.publish("sensors/sensor-1/reading", json.dumps({"temperature": 99}), qos=1) == NOT_AUTHORIZED
    )


def test_the_rule_is_deployed(localcore: RunningLocalcore) -> None:
    """The plugin created every rule of iot_rules/ in localcore's IoT control plane."""
    rule = localcore.client("iot").get_topic_rule(ruleName="temperature_alert")["rule"]
    assert rule["ruleDisabled"] is False
