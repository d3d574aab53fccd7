"""Attack matrix, topic side: a signed-in user (valid SigV4 WebSocket, `iotstream-user` attached) tries to reach
other identities' topics. Every attempt is refused by policy, logged as one JSON line on
`localcore.broker.authz`, and the victim keeps streaming.

Denial behaviour (docs/broker.md, reference 5.10): MQTT 3.1.1 — denied PUBLISH or SUBSCRIBE closes the connection
(SUBACK 0x80 first; aws-iot-device-sdk-js #125); MQTT 5 — PUBACK / SUBACK reason 0x87 Not authorized, connection
kept. Policies: https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clients.session import Session
from iotstream_lambdas.streaming.wire import cancel_topic, prompt_topic, response_filter
from tests.support.session_support import CrtClient, authz_events, new_prompt, paho_ws

NOT_AUTHORIZED = 0x87
SUBACK_FAILURE = 0x80


def test_publish_to_another_users_prompt_topic_mqtt311_closes(
    attacker: Session,
    victim: Session,
    victim_client: CrtClient,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """iot:Publish on topic/chat/{other}/prompt matches no Allow (the resource is bound to
    `${cognito-identity.amazonaws.com:sub}`): MQTT 3.1.1 connection closed, no PUBACK."""
    rid, payload = new_prompt("prompt injected as the victim")
    with paho_ws(attacker, protocol=4) as client:
        client.connect()
        with pytest.raises(ConnectionError):
            client.publish(prompt_topic(victim.identity_id), payload, qos=1)
        client.wait_disconnected()
    [event] = authz_events(caplog, action="iot:Publish", principal=attacker.identity_id)
    assert event["resource"] == prompt_topic(victim.identity_id) and event["reason"]
    unaffected()
    assert rid not in victim_client.rids()  # the injected prompt never reached the rule


def test_publish_to_another_users_prompt_topic_mqtt5_puback_0x87(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """MQTT 5: a denied QoS 1 PUBLISH gets PUBACK 0x87 Not authorized and the connection stays (mqtt.html)."""
    _, payload = new_prompt()
    with paho_ws(attacker, protocol=5) as client:
        client.connect()
        assert client.publish(prompt_topic(victim.identity_id), payload, qos=1) == NOT_AUTHORIZED
        assert not client.is_disconnected
        assert client.publish(prompt_topic(attacker.identity_id), payload, qos=1) == 0  # own topic still fine
    assert authz_events(caplog, action="iot:Publish", resource=prompt_topic(victim.identity_id))
    unaffected()


def test_publish_to_another_users_cancel_topic_is_denied(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """iot:Publish on topic/chat/{other}/cancel is outside `PublishOwnPromptsAndCancels`: cancelling someone
    else's stream is impossible (3.1.1: closed)."""
    with paho_ws(attacker, protocol=4) as client:
        client.connect()
        with pytest.raises(ConnectionError):
            client.publish(cancel_topic(victim.identity_id), b'{"v":1,"rid":"x"}', qos=1)
    assert authz_events(caplog, action="iot:Publish", resource=cancel_topic(victim.identity_id))
    unaffected()


def test_publish_through_basic_ingest_as_another_user_is_denied(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """Basic Ingest (`$aws/rules/<rule>/<topic>`, iot-basic-ingest.html) would hand the rule the victim's topic;
    iot:Publish is checked on the full `$aws/rules/...` topic and no policy allows it."""
    topic = f"$aws/rules/iotstream_prompt/{prompt_topic(victim.identity_id)}"
    _, payload = new_prompt()
    with paho_ws(attacker, protocol=5) as client:
        client.connect()
        assert client.publish(topic, payload, qos=1) == NOT_AUTHORIZED
    assert authz_events(caplog, action="iot:Publish", resource=topic)
    unaffected()


def test_subscribe_to_another_users_responses_mqtt311_closes(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """iot:Subscribe on topicfilter/chat/{other}/response/+ is denied: MQTT 3.1.1 SUBACK 0x80 then close
    (aws-iot-device-sdk-js #125)."""
    with paho_ws(attacker, protocol=4) as client:
        client.connect()
        assert client.subscribe(response_filter(victim.identity_id)) == [SUBACK_FAILURE]
        client.wait_disconnected()
    assert authz_events(caplog, action="iot:Subscribe", resource=response_filter(victim.identity_id))
    unaffected()


def test_subscribe_to_another_users_responses_mqtt5_suback_0x87_receives_nothing(
    attacker: Session, victim: Session, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """MQTT 5: SUBACK 0x87 for the victim's filter; the attacker's own filter is granted in the same packet, and
    while the victim streams the attacker receives nothing."""
    with paho_ws(attacker, protocol=5) as client:
        client.connect()
        own, other = response_filter(attacker.identity_id), response_filter(victim.identity_id)
        assert client.subscribe([(other, 1), (own, 1)]) == [NOT_AUTHORIZED, 1]
        unaffected()  # a full victim stream happens while the attacker is subscribed
        assert client.received == []
    assert authz_events(caplog, action="iot:Subscribe", resource=other)


@pytest.mark.parametrize(
    "topic_filter", ["chat/#", "chat/+/response/+", "#", "chat/+/prompt", "+/+/response/#"]
)
def test_wildcard_subscribe_as_a_normal_user_is_denied(
    topic_filter: str,
    attacker: Session,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """iot:Subscribe compares the filter literally (iot-policies.html: `+`/`#` are plain characters in policy
    resources); `iotstream-user` allows only chat/{own id}/response/+ and the rid form, so any broader wildcard
    gets SUBACK 0x87 and the victim's stream is not seen."""
    with paho_ws(attacker, protocol=5) as client:
        client.connect()
        assert client.subscribe(topic_filter) == [NOT_AUTHORIZED]
        unaffected()
        assert client.received == []
    assert authz_events(caplog, action="iot:Subscribe", resource=topic_filter, principal=attacker.identity_id)


@pytest.mark.parametrize(
    "operation",
    ["publish-presence", "publish-shadow", "subscribe-presence", "subscribe-aws-all"],
)
def test_reserved_aws_topics_are_denied(
    operation: str,
    attacker: Session,
    victim: Session,
    caplog: pytest.LogCaptureFixture,
    unaffected: Callable[[], None],
) -> None:
    """`$aws/...` topics are reserved (reserved-topics.html); no shipped policy allows them: spoofing a lifecycle
    event for the victim, touching a shadow, or watching presence is refused (MQTT 5 reason 0x87)."""
    with paho_ws(attacker, protocol=5) as client:
        client.connect()
        if operation.startswith("publish"):
            topic = (
                f"$aws/events/presence/connected/{victim.identity_id}"
                if operation == "publish-presence"
                else f"$aws/things/{victim.identity_id}/shadow/update"
            )
            assert client.publish(topic, b"{}", qos=1) == NOT_AUTHORIZED
            action, resource = "iot:Publish", topic
        else:
            resource = "$aws/events/presence/#" if operation == "subscribe-presence" else "$aws/#"
            assert client.subscribe(resource) == [NOT_AUTHORIZED]
            action = "iot:Subscribe"
    assert authz_events(caplog, action=action, resource=resource)
    unaffected()
