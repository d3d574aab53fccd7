"""Evaluation logic: implicit deny, Allow, Deny wins, conditions, Cognito intersection (`iot-policies.html`,
`cog-iot-policies.html`, IAM policy evaluation logic and condition operators)."""

from __future__ import annotations

from typing import Any

import pytest

from iot_policies import RequestContext, evaluate, evaluate_authenticated, resource_arn
from iot_policies.arns import CONNECT, PUBLISH, RECEIVE, SUBSCRIBE
from iot_policies.evaluator import NO_IOT_POLICY, NO_MATCHING_ALLOW
from tests.support.policy_helpers import IDENTITY, doc

TOPIC = "arn:aws:iot:us-east-1:123456789012:topic/"


def allow(resource: str | list[str], action: str | list[str] = "iot:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(resource: str | list[str], action: str | list[str] = "iot:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


CTX = RequestContext()


def test_everything_is_implicitly_denied() -> None:
    """By default all requests are denied; the reason says no Allow matched (iot-policies.html)."""
    decision = evaluate([doc(allow(TOPIC + "a"))], PUBLISH, TOPIC + "b", CTX)
    assert not decision.allowed
    assert decision.reason == NO_MATCHING_ALLOW
    assert decision.policy is None
    assert evaluate([], PUBLISH, TOPIC + "b", CTX).reason == NO_MATCHING_ALLOW


def test_explicit_deny_wins_across_policies_and_names_the_statement() -> None:
    """An explicit Deny in any attached policy overrides every Allow (iot-policies.html, reference 1.1)."""
    permissive = doc(allow("*"), name="open")
    strict = doc(allow(TOPIC + "x"), {**deny(TOPIC + "secret/*"), "Sid": "DenyOthers"}, name="user")
    decision = evaluate([permissive, strict], PUBLISH, TOPIC + "secret/1", CTX)
    assert not decision.allowed
    assert decision.reason == "denied by policy 'user' Statement[1] (Sid DenyOthers)"
    assert (decision.policy, decision.statement, decision.sid) == ("user", 1, "DenyOthers")
    granted = evaluate([permissive, strict], PUBLISH, TOPIC + "public", CTX)
    assert granted.allowed
    assert granted.reason == "allowed by policy 'open' Statement[0]"


def test_action_matching_wildcards_and_case() -> None:
    """Actions accept `iot:*`-style wildcards and are case-insensitive, as in IAM."""
    policy = doc(allow("*", action=["iot:Get*", "IOT:publish"]))
    assert evaluate([policy], "iot:Publish", TOPIC + "a", CTX).allowed
    assert evaluate([policy], "iot:GetRetainedMessage", TOPIC + "a", CTX).allowed
    assert not evaluate([policy], "iot:Subscribe", TOPIC + "a", CTX).allowed
    assert evaluate([doc(allow("*", action="*"))], "iot:Connect", "x", CTX).allowed


def test_not_action_and_not_resource() -> None:
    """NotAction/NotResource match everything except the listed entries (IAM; pub-sub-policy.html uses
    `NotResource` to allow Receive on all but restricted topics)."""
    policy = doc({"Effect": "Allow", "Action": "iot:Receive", "NotResource": TOPIC + "a/restricted/*"})
    assert evaluate([policy], RECEIVE, TOPIC + "a/open/1", CTX).allowed
    assert not evaluate([policy], RECEIVE, TOPIC + "a/restricted/1", CTX).allowed
    no_publish = doc({"Effect": "Allow", "NotAction": "iot:Publish", "Resource": "*"})
    assert evaluate([no_publish], SUBSCRIBE, "x", CTX).allowed
    assert not evaluate([no_publish], PUBLISH, "x", CTX).allowed


def test_unresolved_variable_in_resource_denies() -> None:
    """A resource whose variable is missing from the request matches nothing (IAM; reference 1.4)."""
    policy = doc(allow(TOPIC + "${iot:Connection.Thing.ThingName}/*"))
    assert not evaluate([policy], PUBLISH, TOPIC + "/x", CTX).allowed
    thing = RequestContext({"iot:Connection.Thing.ThingName": "dev1"})
    assert evaluate([policy], PUBLISH, TOPIC + "dev1/x", thing).allowed


def test_unresolved_variable_in_a_deny_does_not_deny() -> None:
    """A Deny whose resource cannot resolve matches nothing either, so it does not block (IAM)."""
    policy = doc(allow("*"), deny(TOPIC + "${iot:ClientId}/*"))
    assert evaluate([policy], PUBLISH, TOPIC + "c1/x", CTX).allowed
    assert not evaluate([policy], PUBLISH, TOPIC + "c1/x", RequestContext({"iot:ClientId": "c1"})).allowed


def test_version_2008_keeps_variables_literal() -> None:
    """With Version 2008-10-17 `${...}` is literal text (IAM Version element; uncertain for IoT)."""
    policy = doc(allow(TOPIC + "${iot:ClientId}"), version="2008-10-17")
    context = RequestContext({"iot:ClientId": "c1"})
    assert not evaluate([policy], PUBLISH, TOPIC + "c1", context).allowed
    assert evaluate([policy], PUBLISH, TOPIC + "${iot:ClientId}", context).allowed


def test_variable_keys_are_case_insensitive() -> None:
    """Policy variable and condition key names are case-insensitive (IAM)."""
    policy = doc(allow(TOPIC + "${IOT:clientid}"))
    assert evaluate([policy], PUBLISH, TOPIC + "c1", RequestContext({"iot:ClientId": "c1"})).allowed


def _cond(condition: dict[str, Any]) -> list[Any]:
    return [doc(allow("*", Condition=condition))]


@pytest.mark.parametrize(
    ("condition", "variables", "expected"),
    [
        ({"StringEquals": {"iot:ClientId": "c1"}}, {"iot:ClientId": "c1"}, True),
        ({"StringEquals": {"iot:ClientId": "c1"}}, {"iot:ClientId": "C1"}, False),
        ({"StringEquals": {"iot:ClientId": ["a", "c1"]}}, {"iot:ClientId": "c1"}, True),
        ({"StringEquals": {"iot:ClientId": "c1"}}, {}, False),
        ({"StringNotEquals": {"iot:ClientId": "c1"}}, {}, True),
        ({"StringNotEquals": {"iot:ClientId": "c1"}}, {"iot:ClientId": "c1"}, False),
        ({"StringEqualsIgnoreCase": {"iot:ClientId": "C1"}}, {"iot:ClientId": "c1"}, True),
        ({"StringNotEqualsIgnoreCase": {"iot:ClientId": "C1"}}, {"iot:ClientId": "c1"}, False),
        ({"StringLike": {"iot:ClientId": "dev-*"}}, {"iot:ClientId": "dev-1"}, True),
        ({"StringLike": {"iot:ClientId": "dev-*"}}, {}, False),
        ({"StringNotLike": {"iot:ClientId": "dev-*"}}, {}, True),
        ({"StringNotLike": {"iot:ClientId": "dev-*"}}, {"iot:ClientId": "x"}, True),
        ({"StringLikeIfExists": {"iot:ClientId": "dev-*"}}, {}, True),
        ({"StringLikeIfExists": {"iot:ClientId": "dev-*"}}, {"iot:ClientId": "x"}, False),
        (
            {"StringEquals": {"iot:ClientId": "${cognito-identity.amazonaws.com:sub}"}},
            {"iot:ClientId": IDENTITY},
            False,
        ),
        (
            {"StringEquals": {"iot:ClientId": "${cognito-identity.amazonaws.com:sub}"}},
            {"iot:ClientId": IDENTITY, "cognito-identity.amazonaws.com:sub": IDENTITY},
            True,
        ),
        (
            {"StringNotEquals": {"iot:ClientId": "${cognito-identity.amazonaws.com:sub}"}},
            {"iot:ClientId": "x"},
            True,
        ),
        (
            {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            {"iot:Connection.Thing.IsAttached": "true"},
            True,
        ),
        (
            {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
            {"iot:Connection.Thing.IsAttached": "false"},
            False,
        ),
        ({"Bool": {"iot:Connection.Thing.IsAttached": "true"}}, {}, False),
        ({"Null": {"iot:Connection.Thing.ThingName": "true"}}, {}, True),
        ({"Null": {"iot:Connection.Thing.ThingName": "false"}}, {}, False),
        (
            {"Null": {"iot:Connection.Thing.ThingName": "false"}},
            {"iot:Connection.Thing.ThingName": "t"},
            True,
        ),
        ({"NumericLessThan": {"k": "10"}}, {"k": "9.5"}, True),
        ({"NumericLessThan": {"k": "10"}}, {"k": "10"}, False),
        ({"NumericGreaterThanEquals": {"k": 10}}, {"k": "10"}, True),
        ({"NumericNotEquals": {"k": 10}}, {"k": "11"}, True),
        ({"NumericEquals": {"k": 10}}, {"k": "ten"}, False),
        ({"DateLessThan": {"t": "2030-01-01T00:00:00Z"}}, {"t": "2026-11-23T12:00:00Z"}, True),
        ({"DateGreaterThan": {"t": "2030-01-01T00:00:00Z"}}, {"t": "2026-11-23T12:00:00Z"}, False),
        ({"ArnLike": {"k": "arn:aws:iot:*:*:topic/a/*"}}, {"k": "arn:aws:iot:r:1:topic/a/b"}, True),
        ({"ArnNotLike": {"k": "arn:aws:iot:*:*:topic/a/*"}}, {"k": "arn:aws:iot:r:1:topic/b"}, True),
        ({"ArnEquals": {"k": "arn:aws:iot:r:1:topic/a"}}, {"k": "arn:aws:iot:r:1:topic/a"}, True),
    ],
)
def test_condition_operators(condition: dict[str, Any], variables: dict[str, str], expected: bool) -> None:
    """IAM condition operators with missing keys: positive operators fail, negated ones hold, IfExists holds;
    unresolved variables in values match nothing (reference 1.4/1.5)."""
    assert evaluate(_cond(condition), CONNECT, "x", RequestContext(variables)).allowed is expected


def test_ip_address_conditions_use_source_ip() -> None:
    """`aws:SourceIp` with IpAddress / NotIpAddress (basic-policy-variables.html)."""
    inside = RequestContext(source_ip="10.1.2.3")
    outside = RequestContext(source_ip="192.0.2.9")
    policy = _cond({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}})
    assert evaluate(policy, CONNECT, "x", inside).allowed
    assert not evaluate(policy, CONNECT, "x", outside).allowed
    assert not evaluate(policy, CONNECT, "x", RequestContext()).allowed
    assert evaluate(policy, CONNECT, "x", RequestContext(source_ip="2001:db8::1")).allowed
    negated = _cond({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert evaluate(negated, CONNECT, "x", outside).allowed
    assert not evaluate(negated, CONNECT, "x", inside).allowed
    assert not evaluate(policy, CONNECT, "x", RequestContext(source_ip="not-an-ip")).allowed


def test_set_qualifiers_on_connect_attributes() -> None:
    """ForAllValues/ForAnyValue on the multi-valued `iot:ConnectAttributes` (connect-policy.html persistent
    sessions examples; IAM multivalued keys)."""
    all_of = _cond({"ForAllValues:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect"]}})
    any_of = _cond({"ForAnyValue:StringEquals": {"iot:ConnectAttributes": ["LastWill"]}})

    def ctx(*values: str) -> RequestContext:
        return RequestContext(multi_values={"iot:ConnectAttributes": values})

    assert evaluate(all_of, CONNECT, "x", ctx("PersistentConnect")).allowed
    assert not evaluate(all_of, CONNECT, "x", ctx("PersistentConnect", "LastWill")).allowed
    assert evaluate(all_of, CONNECT, "x", ctx()).allowed  # ForAllValues holds on an empty set
    assert evaluate(all_of, CONNECT, "x", RequestContext()).allowed
    assert evaluate(any_of, CONNECT, "x", ctx("PersistentConnect", "LastWill")).allowed
    assert not evaluate(any_of, CONNECT, "x", ctx("PersistentConnect")).allowed
    assert not evaluate(any_of, CONNECT, "x", RequestContext()).allowed


def test_conditions_are_anded_across_keys_and_operators() -> None:
    """Keys in an operator and operators in a block are ANDed; values for one key are ORed (IAM)."""
    policy = _cond({"StringEquals": {"a": "1", "b": ["2", "3"]}, "StringLike": {"c": "x*"}})
    assert evaluate(policy, CONNECT, "x", RequestContext({"a": "1", "b": "3", "c": "xy"})).allowed
    assert not evaluate(policy, CONNECT, "x", RequestContext({"a": "1", "b": "4", "c": "xy"})).allowed
    assert not evaluate(policy, CONNECT, "x", RequestContext({"a": "1", "b": "2"})).allowed


class TestCognitoIntersection:
    """Authenticated Cognito identities need both the role's IAM policy and an attached IoT policy to
    allow (cog-iot-policies.html, cognito-identities.html, reference 1.6)."""

    role = doc(allow(["arn:aws:iot:*:*:topic/*", "arn:aws:iot:*:*:client/*"]), name="role")
    iot = doc(allow(TOPIC + "chat/${cognito-identity.amazonaws.com:sub}/*"), name="user")
    context = RequestContext.for_identity(IDENTITY)

    def test_both_allow(self) -> None:
        """Allowed only when both layers allow; the reason names both statements."""
        decision = evaluate_authenticated(
            [self.iot], [self.role], PUBLISH, TOPIC + f"chat/{IDENTITY}/x", self.context
        )
        assert decision.allowed
        assert "policy 'user'" in decision.reason and "policy 'role'" in decision.reason

    def test_iot_policy_narrows_the_role(self) -> None:
        """The role allows every topic, the IoT policy only the identity's own: intersection wins."""
        decision = evaluate_authenticated(
            [self.iot], [self.role], PUBLISH, TOPIC + "chat/other/x", self.context
        )
        assert not decision.allowed
        assert decision.reason == "IoT policy: no matching allow"

    def test_role_narrows_the_iot_policy(self) -> None:
        """An IoT policy allowing more than the role still cannot exceed the role (the other direction)."""
        wide = doc(allow("*"), name="wide")
        subscribe = resource_arn(SUBSCRIBE, "a/b", account="123456789012")
        decision = evaluate_authenticated([wide], [self.role], SUBSCRIBE, subscribe, self.context)
        assert not decision.allowed
        assert decision.reason == "role policy: no matching allow"

    def test_no_iot_policy_attached_denies_everything(self) -> None:
        """With no IoT policy attached, an authenticated identity is denied everything in IoT."""
        decision = evaluate_authenticated(
            [], [self.role], PUBLISH, TOPIC + f"chat/{IDENTITY}/x", self.context
        )
        assert not decision.allowed
        assert decision.reason == NO_IOT_POLICY

    def test_explicit_deny_in_role_is_reported(self) -> None:
        """An explicit Deny is reported before a missing Allow, whichever layer it is in."""
        role = doc(allow("*"), {**deny(TOPIC + "chat/*/x"), "Sid": "NoX"}, name="role")
        decision = evaluate_authenticated(
            [self.iot], [role], PUBLISH, TOPIC + f"chat/{IDENTITY}/x", self.context
        )
        assert not decision.allowed
        assert decision.reason == "role policy: denied by policy 'role' Statement[1] (Sid NoX)"

    def test_unauthenticated_identity_uses_the_role_alone(self) -> None:
        """Unauthenticated identities are authorized by the role only; IoT does not scope it down."""
        assert evaluate([self.role], PUBLISH, TOPIC + "chat/other/x", self.context).allowed
