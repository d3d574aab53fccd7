"""Live policy changes on the control plane reach connected clients at once in localcore.

AWS caches policies: changes "take 6-8 minutes" to apply (iot-policies.html; reference 1.1), so real clients
keep their old rights for a while. localcore applies them immediately (`PolicyStore.on_change` clears every
connection's decision cache): tests see the final state without waiting, and docs/security.md says not to
rely on instant revocation against AWS. iot:Receive is checked on every delivery (reference 1.8).

Non-delivery is shown without sleeping: the broker keeps per-connection order, so a marker published after the
refused message arrives while the refused one never does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from clients.session import Session, sign_in
from iot_policies.library import policy_dir
from iotstream_lambdas.streaming.wire import prompt_topic, response_filter, response_topic
from localcore.testing import RunningLocalcore
from tests.support.session_support import PASSWORD, Users, authz_events, new_prompt, paho_ws

NOT_AUTHORIZED = 0x87


def publish_response(core: RunningLocalcore, session: Session, marker: str) -> str:
    """Publish to the user's response topic through iot-data (as the prompt Lambda does); returns the topic."""
    topic = response_topic(session.identity_id, str(uuid.uuid4()))
    core.client("iot-data").publish(topic=topic, qos=1, payload=json.dumps({"marker": marker}).encode())
    return topic


def test_detaching_the_policy_cuts_a_connected_client_off_immediately(
    core: RunningLocalcore, users: Users, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """DetachPolicy on the identity: the connected client's next PUBLISH gets 0x87 and deliveries stop
    (iot:Receive denied, logged); AttachPolicy again restores both — with no reconnect."""
    session = users.create("detached")
    iot = core.client("iot")
    with paho_ws(session, protocol=5) as client:
        client.connect()
        assert client.subscribe(response_filter(session.identity_id)) == [1]
        first = publish_response(core, session, "before")
        assert client.expect(1)[0].topic == first
        iot.detach_policy(policyName="iotstream-user", target=session.identity_id)
        _, payload = new_prompt()
        assert client.publish(prompt_topic(session.identity_id), payload, qos=1) == NOT_AUTHORIZED
        refused = publish_response(core, session, "while detached")
        iot.attach_policy(policyName="iotstream-user", target=session.identity_id)
        after = publish_response(core, session, "after")
        received = client.expect(2)
        assert [m.topic for m in received] == [first, after]
        assert refused not in {m.topic for m in client.received}
        assert not client.is_disconnected
    assert authz_events(caplog, action="iot:Receive", resource=refused, principal=session.identity_id)
    assert authz_events(caplog, action="iot:Publish", resource=prompt_topic(session.identity_id))
    unaffected()


def test_a_new_default_policy_version_applies_to_live_connections(
    core: RunningLocalcore, users: Users, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """CreatePolicyVersion(setAsDefault) replacing a policy's rules applies to connected clients at once, and
    SetDefaultPolicyVersion back restores them (a private copy of the user policy, so other users keep theirs)."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    user_document = json.loads((policy_dir() / "user.json").read_text())
    without_receive = {
        **user_document,
        "Statement": [s for s in user_document["Statement"] if s["Action"] != "iot:Receive"],
    }
    iot = core.client("iot")
    iot.create_policy(policyName=name, policyDocument=json.dumps(user_document))
    session = users.create("versioned", attach=False)
    iot.attach_policy(policyName=name, target=session.identity_id)
    with paho_ws(session, protocol=5) as client:
        client.connect()
        assert client.subscribe(response_filter(session.identity_id)) == [1]
        first = publish_response(core, session, "v1")
        assert client.expect(1)[0].topic == first
        v2 = iot.create_policy_version(
            policyName=name, policyDocument=json.dumps(without_receive), setAsDefault=True
        )
        assert v2["isDefaultVersion"]
        refused = publish_response(core, session, "v2 has no Receive")
        iot.set_default_policy_version(policyName=name, policyVersionId="1")
        after = publish_response(core, session, "back to v1")
        assert [m.topic for m in client.expect(2)] == [first, after]
        assert refused not in {m.topic for m in client.received}
    [event] = authz_events(caplog, action="iot:Receive", resource=refused)
    assert event["principal"] == session.identity_id and event["reason"]
    unaffected()


def test_a_user_removed_from_the_dashboard_group_loses_the_dashboard_although_its_policy_stays(
    core: RunningLocalcore, users: Users, caplog: pytest.LogCaptureFixture, unaffected: Callable[[], None]
) -> None:
    """AdminRemoveUserFromGroup, then sign in again: the new token has no `cognito:groups`, the identity pool
    gives the authenticated role, whose policy is scoped like `iotstream-user` (iot_policies/role-*.json).
    `iotstream-dashboard` stays attached to the identity, yet `chat/+/response/+` is refused: an authenticated
    identity gets the intersection of role and IoT policies (cog-iot-policies.html)."""
    username = users.register("former", dashboard=True)
    member = sign_in(users.config, username, PASSWORD)
    assert member.attached_policy == "iotstream-dashboard"
    with paho_ws(member, protocol=5) as client:
        client.connect()
        assert client.subscribe("chat/+/response/+") == [1]
    users.admin.admin_remove_user_from_group(
        UserPoolId=users.config.user_pool_id, Username=username, GroupName="dashboard"
    )
    former = sign_in(users.config, username, PASSWORD)
    assert former.identity_id == member.identity_id and former.attached_policy == "iotstream-user"
    attached = core.client("iot").list_attached_policies(target=former.identity_id)["policies"]
    assert {p["policyName"] for p in attached} == {"iotstream-dashboard", "iotstream-user"}
    with paho_ws(former, protocol=5) as client:
        client.connect()
        assert client.subscribe("chat/+/response/+") == [NOT_AUTHORIZED]
        assert client.subscribe("dashboard/#") == [NOT_AUTHORIZED]
        assert client.subscribe(response_filter(former.identity_id)) == [1]
    denied = authz_events(caplog, event="denied", action="iot:Subscribe", principal=former.identity_id)
    assert {e["resource"] for e in denied} == {"chat/+/response/+", "dashboard/#"}
    unaffected()
