"""What localcore tells clients about itself through the AWS APIs."""

from __future__ import annotations

from localcore.testing import RunningLocalcore


def test_describe_endpoint_names_the_mqtt_listener(stack: RunningLocalcore) -> None:
    """DescribeEndpoint(iot:Data-ATS) gives the data endpoint clients connect to; localcore answers
    host:port of its MQTT listener, since its ports are not AWS's fixed 8883/443."""
    address = stack.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert address == f"127.0.0.1:{stack.mqtt_port}"
