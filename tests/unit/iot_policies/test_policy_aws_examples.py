"""The example policies from AWS IoT's developer guide, evaluated as the guide says they behave.

Each test cites its page under https://docs.aws.amazon.com/iot/latest/developerguide/.
"""

from __future__ import annotations

from iot_policies import RequestContext, parse_policy
from iot_policies.arns import CONNECT, PUBLISH, RECEIVE, SUBSCRIBE
from tests.support.policy_helpers import decide, doc

A = "arn:aws:iot:us-east-1:123456789012"


def test_connect_policy_deny_client1_client2_allow_attached_thing() -> None:
    """connect-policy.html: deny client ids client1 and client2; allow a client id equal to the thing name
    when the principal is attached to the thing (`Bool iot:Connection.Thing.IsAttached`)."""
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": ["iot:Connect"],
                    "Resource": [f"{A}:client/client1", f"{A}:client/client2"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["iot:Connect"],
                    "Resource": [f"{A}:client/${{iot:Connection.Thing.ThingName}}"],
                    "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
                },
            ],
        }
    )

    def thing(name: str, attached: bool = True) -> RequestContext:
        return RequestContext(
            {"iot:Connection.Thing.ThingName": name, "iot:Connection.Thing.IsAttached": str(attached).lower()}
        )

    assert decide(policy, CONNECT, "sensor7", thing("sensor7")).allowed
    assert not decide(policy, CONNECT, "sensor8", thing("sensor7")).allowed
    assert not decide(policy, CONNECT, "sensor7", thing("sensor7", attached=False)).allowed
    denied = decide(policy, CONNECT, "client1", thing("client1"))
    assert not denied.allowed and denied.statement == 0


def test_connect_policy_unregistered_client1() -> None:
    """connect-policy.html: unregistered devices may connect with client id client1 only."""
    policy = doc({"Effect": "Allow", "Action": ["iot:Connect"], "Resource": [f"{A}:client/client1"]})
    assert decide(policy, CONNECT, "client1").allowed
    assert not decide(policy, CONNECT, "client2").allowed
    assert not decide(policy, CONNECT, "client10").allowed


def test_connect_and_pub_client_id_topic() -> None:
    """connect-and-pub.html: publish only on the topic named after the client id (`topic/${iot:ClientId}`)."""
    policy = doc(
        {"Effect": "Allow", "Action": ["iot:Publish"], "Resource": [f"{A}:topic/${{iot:ClientId}}"]},
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": [f"{A}:client/client1"]},
    )
    client1 = RequestContext({"iot:ClientId": "client1"})
    assert decide(policy, PUBLISH, "client1", client1).allowed
    assert not decide(policy, PUBLISH, "client2", client1).allowed
    assert not decide(policy, PUBLISH, "client1/sub", client1).allowed


def test_connect_and_pub_thing_name_unresolved_denies() -> None:
    """connect-and-pub.html / thing-policy-examples.html: `${iot:Connection.Thing.ThingName}` only resolves
    when the principal is attached to a thing; otherwise the request is denied."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": ["iot:Publish"],
            "Resource": [f"{A}:topic/${{iot:Connection.Thing.ThingName}}"],
        }
    )
    assert decide(policy, PUBLISH, "t1", RequestContext({"iot:Connection.Thing.ThingName": "t1"})).allowed
    assert not decide(policy, PUBLISH, "t1", RequestContext({"iot:ClientId": "t1"})).allowed


def test_pub_sub_mqtt_wildcard_filter_is_literal() -> None:
    """pub-sub-policy.html (MQTT wildcard section): `topicfilter/some/+/topic` allows subscribing to
    exactly the filter `some/+/topic`; subscribing to `some/baz/topic` fails."""
    policy = doc(
        {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": [f"{A}:client/client1"]},
        {"Effect": "Allow", "Action": ["iot:Subscribe"], "Resource": [f"{A}:topicfilter/some/+/topic"]},
    )
    assert decide(policy, SUBSCRIBE, "some/+/topic").allowed
    assert not decide(policy, SUBSCRIBE, "some/baz/topic").allowed
    assert not decide(policy, SUBSCRIBE, "some/#").allowed


def test_pub_sub_wildcard_table() -> None:
    """pub-sub-policy.html wildcard table: `topicfilter/some/*/topic`, `topicfilter/some/sensor*/topic`,
    `topic/some/?????/topic`, `topicfilter/some/sensor???/topic`."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": [f"{A}:topicfilter/some/*/topic", f"{A}:topicfilter/some/sensor???/x"],
        },
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{A}:topic/some/?????/topic"},
    )
    assert decide(policy, SUBSCRIBE, "some/+/topic").allowed
    assert decide(policy, SUBSCRIBE, "some/a/b/topic").allowed  # `*` is not confined to one level
    assert decide(policy, SUBSCRIBE, "some/sensor123/x").allowed
    assert not decide(policy, SUBSCRIBE, "some/sensor1234/x").allowed
    assert decide(policy, PUBLISH, "some/abcde/topic").allowed
    assert not decide(policy, PUBLISH, "some/abc/topic").allowed


def test_pub_sub_prefix_star_allows_hash_subscription() -> None:
    """pub-sub-policy.html / reference 1.3: `topicfilter/a/*` allows subscribing to `a/#`, because `*` matches
    the literal `#`."""
    policy = doc({"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{A}:topicfilter/a/*"})
    assert decide(policy, SUBSCRIBE, "a/#").allowed
    assert decide(policy, SUBSCRIBE, "a/+/b").allowed
    assert not decide(policy, SUBSCRIBE, "b/#").allowed


def test_pub_sub_deny_subscribe_trap_and_receive_fix() -> None:
    """pub-sub-policy.html ("deny receiving messages from subtopics"): denying `topicfilter/a/restricted/*`
    does not stop a client subscribed to `a/#` from receiving `a/restricted/...`; denying
    `iot:Receive` on `topic/a/restricted/*` does."""
    trap = doc(
        {"Effect": "Allow", "Action": ["iot:Subscribe"], "Resource": f"{A}:topicfilter/a/*"},
        {"Effect": "Allow", "Action": ["iot:Receive"], "Resource": f"{A}:topic/a/*"},
        {"Effect": "Deny", "Action": ["iot:Subscribe"], "Resource": f"{A}:topicfilter/a/restricted/*"},
    )
    assert not decide(trap, SUBSCRIBE, "a/restricted/#").allowed
    assert decide(trap, SUBSCRIBE, "a/#").allowed
    assert decide(trap, RECEIVE, "a/restricted/secret").allowed  # the trap
    fixed = doc(
        {"Effect": "Allow", "Action": ["iot:Subscribe"], "Resource": f"{A}:topicfilter/a/*"},
        {"Effect": "Allow", "Action": ["iot:Receive"], "Resource": f"{A}:topic/a/*"},
        {"Effect": "Deny", "Action": ["iot:Receive"], "Resource": f"{A}:topic/a/restricted/*"},
    )
    assert decide(fixed, SUBSCRIBE, "a/#").allowed
    assert not decide(fixed, RECEIVE, "a/restricted/secret").allowed
    assert decide(fixed, RECEIVE, "a/open/1").allowed


def test_pub_sub_not_resource_receive() -> None:
    """pub-sub-policy.html: allow Receive on every topic except `a/restricted/*` with `NotResource`."""
    policy = doc({"Effect": "Allow", "Action": "iot:Receive", "NotResource": f"{A}:topic/a/restricted/*"})
    assert decide(policy, RECEIVE, "a/b").allowed
    assert not decide(policy, RECEIVE, "a/restricted/c").allowed


def test_client_id_plus_security_note() -> None:
    """iot-policy-variables.html security note: a client that connects with `+` as its client id matches a
    `topicfilter/my/${iot:ClientId}/topic` resource with the literal-wildcard filter `my/+/topic`."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": f"{A}:topicfilter/my/${{iot:ClientId}}/topic",
        }
    )
    assert decide(policy, SUBSCRIBE, "my/+/topic", RequestContext({"iot:ClientId": "+"})).allowed
    assert not decide(policy, SUBSCRIBE, "my/+/topic", RequestContext({"iot:ClientId": "c1"})).allowed


def test_thing_policy_attribute_and_type_conditions() -> None:
    """thing-policy-examples.html: publish to `device/stats` only if attached to a thing of a given type with
    a given attribute value."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": ["iot:Publish"],
            "Resource": f"{A}:topic/device/stats",
            "Condition": {
                "StringEquals": {
                    "iot:Connection.Thing.Attributes[attributeName]": "attributeValue",
                    "iot:Connection.Thing.ThingTypeName": "Thing_Type_Name",
                },
                "Bool": {"iot:Connection.Thing.IsAttached": "true"},
            },
        }
    )
    good = {
        "iot:Connection.Thing.Attributes[attributeName]": "attributeValue",
        "iot:Connection.Thing.ThingTypeName": "Thing_Type_Name",
        "iot:Connection.Thing.IsAttached": "true",
    }
    assert decide(policy, PUBLISH, "device/stats", RequestContext(good)).allowed
    assert not decide(
        policy,
        PUBLISH,
        "device/stats",
        RequestContext({**good, "iot:Connection.Thing.ThingTypeName": "Other"}),
    ).allowed
    assert not decide(
        policy, PUBLISH, "device/stats", RequestContext({**good, "iot:Connection.Thing.IsAttached": "false"})
    ).allowed


def test_thing_policy_connect_any_when_attached() -> None:
    """thing-policy-examples.html: connect with any client id if the certificate is attached to the thing
    (`Resource: ["*"]` with `Bool IsAttached ["true"]`)."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": ["iot:Connect"],
            "Resource": ["*"],
            "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": ["true"]}},
        }
    )
    assert decide(
        policy, CONNECT, "anything", RequestContext({"iot:Connection.Thing.IsAttached": "true"})
    ).allowed
    assert not decide(policy, CONNECT, "anything").allowed


def test_cognito_sub_in_client_and_topic() -> None:
    """cog-iot-policies.html / pub-sub-policy.html (HTTP and WebSocket clients): `client/${cognito-identity.
    amazonaws.com:sub}` forces the client id to equal the identity id, which contains a colon."""
    sub = "us-east-1:12345678-1234-1234-1234-123456789012"
    policy = doc(
        {
            "Effect": "Allow",
            "Action": ["iot:Connect"],
            "Resource": [f"{A}:client/${{cognito-identity.amazonaws.com:sub}}"],
        },
        {
            "Effect": "Allow",
            "Action": ["iot:Publish"],
            "Resource": [f"{A}:topic/device/${{cognito-identity.amazonaws.com:sub}}/status"],
        },
    )
    context = RequestContext({"cognito-identity.amazonaws.com:sub": sub})
    assert decide(policy, CONNECT, sub, context).allowed
    assert not decide(policy, CONNECT, "us-east-1:other", context).allowed
    assert decide(policy, PUBLISH, f"device/{sub}/status", context).allowed
    assert not decide(policy, PUBLISH, "device/us-east-1:other/status", context).allowed
    assert not decide(policy, CONNECT, sub).allowed  # unresolved sub (not a Cognito identity)


def test_connect_with_only_default_features() -> None:
    """connect-policy.html / mqtt.html "Using connectAttributes": `ForAllValues:StringEquals` with an empty
    `iot:ConnectAttributes` list allows a connection that asks for no feature (clean session, no Last Will)
    and refuses one asking for `PersistentConnect` or `LastWill`."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": f"{A}:client/client1",
            "Condition": {"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}},
        }
    )

    def attributes(*names: str) -> RequestContext:
        return RequestContext(multi_values={"iot:ConnectAttributes": names})

    assert decide(policy, CONNECT, "client1", attributes()).allowed
    assert decide(policy, CONNECT, "client1", RequestContext()).allowed
    assert not decide(policy, CONNECT, "client1", attributes("PersistentConnect")).allowed
    assert not decide(policy, CONNECT, "client1", attributes("LastWill")).allowed
