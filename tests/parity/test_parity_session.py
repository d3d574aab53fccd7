"""The session flow and the isolation rules, identical against localcore and a real deployment (see
conftest.py for the two targets). Same client code as a user runs (clients/session.py: InitiateAuth, GetId,
GetCredentialsForIdentity, the attach-policy URL with the ID token, awsiotsdk / paho over SigV4 WebSockets).

AWS pages: cog-iot-policies.html (role AND IoT policy for authenticated identities), pub-sub-policy.html,
mqtt.html (MQTT 5 reason code 0x87 Not authorized), urls-invocation.html (the attach URL),
API_AdminRemoveUserFromGroup.html. Not tested here: instant effect of a detached IoT policy, which AWS
caches for 6-8 minutes (iot-policies.html); tests/functional/security covers it on localcore.
"""

from __future__ import annotations

import json

import pytest

from clients.errors import AttachPolicyError
from clients.presign import AwsCredentials
from clients.session import call_attach_policy
from iotstream_lambdas.streaming.wire import End, cancel_topic, prompt_topic, response_filter
from tests.support.parity import ParityUsers, Target
from tests.support.session_support import CrtClient, new_prompt, paho_ws

pytestmark = pytest.mark.parity
NOT_AUTHORIZED = 0x87
STREAM_TIMEOUT = 120.0  # a real model answers within this


def test_two_users_stream_complete_answers_on_their_own_topics(users: ParityUsers) -> None:
    """Each user gets `iotstream-user` from the attach URL, streams an answer that ends with `end` (never
    `error`), and sees only its own response topic."""
    alice, bob = users.create("alice"), users.create("bob")
    assert alice.attached_policy == bob.attached_policy == "iotstream-user"
    a, b = CrtClient.open(alice), CrtClient.open(bob)
    try:
        assert a.subscribe(response_filter(alice.identity_id)) == 1
        assert b.subscribe(response_filter(bob.identity_id)) == 1
        rid_a, rid_b = a.prompt(alice, "Say hi in three words."), b.prompt(bob, "Say bye in three words.")
        for client, rid in ((a, rid_a), (b, rid_b)):
            terminal = client.stream(rid, timeout=STREAM_TIMEOUT).terminal
            assert isinstance(terminal, End), f"expected end, got {terminal}"
        assert a.rids() == {rid_a} and b.rids() == {rid_b}
    finally:
        a.close()
        b.close()


def test_a_dashboard_member_sees_every_stream_and_publishes_nothing(users: ParityUsers) -> None:
    """The dashboard group's role and `iotstream-dashboard`: subscribe `chat/+/response/+` and receive other
    users' streams; PUBLISH to a prompt topic is refused (PUBACK 0x87)."""
    dash, alice = users.create("dash", dashboard=True), users.create("watched")
    assert dash.attached_policy == "iotstream-dashboard"
    d, a = CrtClient.open(dash, "board"), CrtClient.open(alice)
    try:
        assert d.subscribe("chat/+/response/+") == 1
        a.subscribe(response_filter(alice.identity_id))
        rid = a.prompt(alice, "Name one colour.")
        assert isinstance(d.stream(rid, timeout=STREAM_TIMEOUT).terminal, End)
        assert isinstance(a.stream(rid, timeout=STREAM_TIMEOUT).terminal, End)
    finally:
        d.close()
        a.close()
    with paho_ws(dash, protocol=5) as writer:
        writer.connect()
        _, payload = new_prompt()
        assert writer.publish(prompt_topic(dash.identity_id), payload, qos=1) == NOT_AUTHORIZED


def test_cancel_mid_stream_ends_with_stop_cancelled(users: ParityUsers) -> None:
    """`{"rid"}` on chat/{id}/cancel once the stream has started: the answer ends with `end`, stop `cancelled`
    (docs/protocol.md, Cancel)."""
    alice = users.create("canceller")
    client = CrtClient.open(alice)
    try:
        client.subscribe(response_filter(alice.identity_id))
        rid = client.prompt(alice, "Count from 1 to 300, one number per line, nothing else.")
        client.wait_started(rid, timeout=STREAM_TIMEOUT)
        client.publish(cancel_topic(alice.identity_id), json.dumps({"rid": rid}).encode())
        terminal = client.stream(rid, timeout=STREAM_TIMEOUT).terminal
    finally:
        client.close()
    assert isinstance(terminal, End) and terminal.stop == "cancelled", terminal


def test_cross_user_publish_subscribe_and_client_id_are_refused(users: ParityUsers) -> None:
    """MQTT 5: PUBACK/SUBACK 0x87 for another identity's topics and for `chat/#`; CONNACK refused for another
    identity's client id."""
    alice, mallory = users.create("victim"), users.create("mallory")
    with paho_ws(mallory, protocol=5) as client:
        client.connect()
        _, payload = new_prompt()
        assert client.publish(prompt_topic(alice.identity_id), payload, qos=1) == NOT_AUTHORIZED
        assert client.subscribe(response_filter(alice.identity_id)) == [NOT_AUTHORIZED]
        assert client.subscribe("chat/#") == [NOT_AUTHORIZED]
    with paho_ws(mallory, client_id=alice.identity_id, protocol=5) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code != 0


def test_an_identity_without_a_policy_cannot_connect(users: ParityUsers) -> None:
    """An authenticated identity with no IoT policy attached is denied everything (cog-iot-policies.html)."""
    session = users.create("nopolicy", attach=False)
    with paho_ws(session, client_id=session.identity_id, protocol=5) as client:
        client.connect(expect_success=False)
        assert client.connack is not None and client.connack.reason_code != 0


def test_removed_from_the_dashboard_group_the_next_sign_in_has_no_dashboard(users: ParityUsers) -> None:
    """Revocation: AdminRemoveUserFromGroup, sign in again (new token, authenticated role, same identity):
    `chat/+/response/+` is refused although `iotstream-dashboard` is still attached, because the role policy
    is scoped like `iotstream-user` and IoT grants the intersection."""
    username = users.register("former", dashboard=True)
    member = users.sign_in(username)
    with paho_ws(member, protocol=5) as client:
        client.connect()
        assert client.subscribe("chat/+/response/+") == [1]
    users.set_dashboard(username, False)
    former = users.sign_in(username)
    assert former.identity_id == member.identity_id and former.attached_policy == "iotstream-user"
    with paho_ws(former, protocol=5) as client:
        client.connect()
        assert client.subscribe("chat/+/response/+") == [NOT_AUTHORIZED]
        assert client.subscribe(response_filter(former.identity_id)) == [1]


def test_the_attach_url_refuses_unknown_keys_and_forged_tokens(users: ParityUsers, target: Target) -> None:
    """AWS_IAM auth refuses an unknown access key before the function runs (403); a signed request with a
    tampered ID token is refused by GetId (403); no token at all is 400."""
    with pytest.raises(AttachPolicyError) as unknown:
        call_attach_policy(target.config, AwsCredentials("AKIAPARITYUNKNOWN000", "not-a-secret"), "x.y.z")
    assert unknown.value.status == 403
    session = users.create("forger", attach=False)
    header, claims, signature = session.tokens.id_token.split(".")
    with pytest.raises(AttachPolicyError) as forged:
        call_attach_policy(target.config, session.credentials, f"{header}.{claims}.{signature[::-1]}")
    assert forged.value.status == 403
    with pytest.raises(AttachPolicyError) as missing:
        call_attach_policy(target.config, session.credentials, "")
    assert missing.value.status == 400
