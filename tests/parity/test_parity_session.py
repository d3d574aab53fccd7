"""The session flow and the main isolation rules against real AWS, from the CDK outputs file (opt-in, see
conftest.py). The same client code and assertions as tests/functional/session and .../security, where the
behaviour is one AWS documents; the policy-cache delay (6-8 minutes, iot-policies.html) is not tested here."""

from __future__ import annotations

import pytest

from clients.config import ClientConfig
from clients.errors import AttachPolicyError
from clients.presign import AwsCredentials
from clients.session import call_attach_policy
from streaming.wire import prompt_topic, response_filter
from tests.functional.session.session_support import CrtClient, new_prompt, paho_ws
from tests.parity.conftest import AwsUsers

pytestmark = pytest.mark.parity
NOT_AUTHORIZED = 0x87


def test_two_users_stream_their_own_answers(aws_users: AwsUsers) -> None:
    """Cognito enhanced flow + attach-policy URL + awsiotsdk over wss with SigV4; each user gets only its own
    stream (cog-iot-policies.html, pub-sub-policy.html)."""
    alice, bob = aws_users.create("alice"), aws_users.create("bob")
    assert alice.attached_policy and bob.attached_policy
    a, b = CrtClient.open(alice), CrtClient.open(bob)
    try:
        a.subscribe(response_filter(alice.identity_id))
        b.subscribe(response_filter(bob.identity_id))
        rid_a, rid_b = a.prompt(alice, "Say hi in three words."), b.prompt(bob, "Say bye in three words.")
        assert a.stream(rid_a, timeout=120).terminal is not None
        assert b.stream(rid_b, timeout=120).terminal is not None
        assert a.rids() == {rid_a} and b.rids() == {rid_b}
    finally:
        a.close()
        b.close()


def test_cross_user_publish_subscribe_and_client_id_are_refused(aws_users: AwsUsers) -> None:
    """MQTT 5 on AWS: PUBACK/SUBACK 0x87 for another identity's topics, CONNACK 0x87 for its client id."""
    alice, mallory = aws_users.create("alice"), aws_users.create("mallory")
    with paho_ws(mallory, protocol=5) as client:
        client.connect()
        _, payload = new_prompt()
        assert client.publish(prompt_topic(alice.identity_id), payload, qos=1) == NOT_AUTHORIZED
        assert client.subscribe(response_filter(alice.identity_id)) == [NOT_AUTHORIZED]
        assert client.subscribe("chat/#") == [NOT_AUTHORIZED]
    with paho_ws(mallory, client_id=alice.identity_id, protocol=5) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code != 0


def test_identity_without_policy_cannot_connect(aws_users: AwsUsers) -> None:
    """An authenticated identity with no IoT policy attached is denied everything (cog-iot-policies.html)."""
    session = aws_users.create("nopolicy", attach=False)
    with paho_ws(session, client_id=session.identity_id, protocol=5) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code != 0


def test_attach_url_refuses_non_cognito_callers(aws_config: ClientConfig) -> None:
    """The function URL (AWS_IAM) refuses unknown keys with 403."""
    with pytest.raises(AttachPolicyError) as error:
        call_attach_policy(aws_config, AwsCredentials("AKIAPARITYUNKNOWN000", "not-a-secret"))
    assert error.value.status == 403
