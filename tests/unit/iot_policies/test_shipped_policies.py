"""The project's own policies (docs/architecture.md "Topics and who may use them"): per-user isolation, read-only dashboard."""

from __future__ import annotations

import json

import pytest

from iot_policies import RequestContext, evaluate_authenticated, load_shipped, policy_dir, resource_arn
from iot_policies.arns import CONNECT, PUBLISH, RECEIVE, RETAIN_PUBLISH, SUBSCRIBE
from iot_policies.document import MAX_POLICY_CHARS
from iot_policies.errors import UnknownPolicyError
from iot_policies.library import SHIPPED_POLICIES
from tests.support.policy_helpers import IDENTITY, OTHER, decide

USER = RequestContext.for_identity(IDENTITY, client_id=IDENTITY)
RID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("name", sorted(SHIPPED_POLICIES))
def test_every_shipped_policy_parses_within_limits(name: str) -> None:
    """Each shipped document is valid and under 2048 non-whitespace characters (reference 1.7)."""
    policy = load_shipped(name)
    assert policy.name == name
    assert policy.version == "2012-10-17"
    assert 0 < policy.size <= MAX_POLICY_CHARS
    assert (policy_dir() / f"{name}.json").is_file()
    assert json.loads((policy_dir() / f"{name}.json").read_text()) == policy.raw


def test_unknown_shipped_policy() -> None:
    """Asking for a policy that is not shipped names the ones that are."""
    with pytest.raises(UnknownPolicyError, match="user"):
        load_shipped("nope")


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (CONNECT, IDENTITY),
        (CONNECT, f"{IDENTITY}-tab-2"),
        (PUBLISH, f"chat/{IDENTITY}/prompt"),
        (PUBLISH, f"chat/{IDENTITY}/cancel"),
        (SUBSCRIBE, f"chat/{IDENTITY}/response/+"),
        (SUBSCRIBE, f"chat/{IDENTITY}/response/{RID}"),
        (RECEIVE, f"chat/{IDENTITY}/response/{RID}"),
    ],
)
def test_user_may_use_own_client_id_and_topics(action: str, name: str) -> None:
    """docs/architecture.md topics table: a user connects as `{id}` or `{id}-*`, publishes prompts and cancels, and
    subscribes to and receives its own responses."""
    assert decide(load_shipped("user"), action, name, USER).allowed


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (CONNECT, OTHER),
        (CONNECT, f"{OTHER}-tab"),
        (CONNECT, "dashboard"),
        (CONNECT, f"x{IDENTITY}"),
        (PUBLISH, f"chat/{OTHER}/prompt"),
        (PUBLISH, f"chat/{IDENTITY}/response/{RID}"),  # only the backend answers
        (PUBLISH, f"chat/{IDENTITY}/prompt/extra"),
        (PUBLISH, "dashboard/stats"),
        (RETAIN_PUBLISH, f"chat/{IDENTITY}/prompt"),
        (SUBSCRIBE, "chat/#"),
        (SUBSCRIBE, "#"),
        (SUBSCRIBE, "chat/+/response/+"),
        (SUBSCRIBE, f"chat/{OTHER}/response/+"),
        (SUBSCRIBE, f"chat/{IDENTITY}/prompt"),
        (SUBSCRIBE, f"chat/{IDENTITY}/#"),
        (SUBSCRIBE, "dashboard/#"),
        (SUBSCRIBE, "dashboard/streams/0"),
        (RECEIVE, "dashboard/streams/0"),
        (RECEIVE, f"chat/{OTHER}/response/{RID}"),
        (RECEIVE, f"chat/{IDENTITY}/prompt"),
        (RECEIVE, "dashboard/stats"),
    ],
)
def test_user_cannot_reach_other_identities_or_broadcasts(action: str, name: str) -> None:
    """Per-user isolation: another identity's topics and client ids, wildcard-wide filters (`chat/#`,
    `chat/+/response/+`, matched literally by AWS) and the dashboard are all denied."""
    decision = decide(load_shipped("user"), action, name, USER)
    assert not decision.allowed, decision.reason


def test_user_policy_without_identity_denies_everything() -> None:
    """Without `${cognito-identity.amazonaws.com:sub}` in the context nothing resolves (IAM rule)."""
    for action, name in [(CONNECT, IDENTITY), (PUBLISH, f"chat/{IDENTITY}/prompt")]:
        assert not decide(load_shipped("user"), action, name, RequestContext()).allowed


DASH = RequestContext.for_identity(OTHER, client_id=OTHER)


@pytest.mark.parametrize(
    ("action", "name", "allowed"),
    [
        (CONNECT, OTHER, True),
        (CONNECT, f"{OTHER}-view", True),
        (CONNECT, IDENTITY, False),
        (SUBSCRIBE, "chat/+/response/+", True),
        (SUBSCRIBE, "dashboard/#", True),
        (SUBSCRIBE, "dashboard/streams/0", True),
        (SUBSCRIBE, "dashboard/streams/15", True),
        (RECEIVE, "dashboard/streams/7", True),
        (SUBSCRIBE, "dashboard/other", False),
        (SUBSCRIBE, "chat/#", False),
        (SUBSCRIBE, "#", False),
        (SUBSCRIBE, "chat/+/prompt", False),
        (RECEIVE, f"chat/{IDENTITY}/response/{RID}", True),
        (RECEIVE, "dashboard/metrics/x", True),
        (RECEIVE, f"chat/{IDENTITY}/prompt", False),
        (PUBLISH, f"chat/{OTHER}/prompt", False),
        (PUBLISH, "dashboard/x", False),
        (RETAIN_PUBLISH, "dashboard/x", False),
    ],
)
def test_dashboard_is_read_only(action: str, name: str, allowed: bool) -> None:
    """docs/architecture.md: dashboards subscribe to `chat/+/response/+` and `dashboard/#` (literal filters) and to the
    feed's shards `dashboard/streams/{k}` (policy `*` matches any characters, `+`/`#` are literal:
    https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html) and receive every stream;
    they publish nothing and cannot read prompts."""
    assert decide(load_shipped("dashboard"), action, name, DASH).allowed is allowed


@pytest.mark.parametrize(
    ("iot", "role", "action", "name", "allowed"),
    [
        ("user", "role-authenticated", PUBLISH, f"chat/{IDENTITY}/prompt", True),
        ("user", "role-authenticated", PUBLISH, f"chat/{OTHER}/prompt", False),
        ("dashboard", "role-dashboard", RECEIVE, f"chat/{IDENTITY}/response/{RID}", True),
        ("dashboard", "role-dashboard", SUBSCRIBE, "chat/+/response/+", True),
        ("user", "role-dashboard", PUBLISH, f"chat/{IDENTITY}/prompt", False),  # role forbids Publish
    ],
)
def test_shipped_roles_intersect_with_iot_policies(
    iot: str, role: str, action: str, name: str, allowed: bool
) -> None:
    """cog-iot-policies.html: an authenticated identity needs both the role policy and its IoT policy."""
    context = RequestContext.for_identity(IDENTITY if iot == "user" else OTHER, client_id=IDENTITY)
    arn = resource_arn(action, name, account="123456789012")
    decision = evaluate_authenticated([load_shipped(iot)], [load_shipped(role)], action, arn, context)
    assert decision.allowed is allowed, decision.reason


@pytest.mark.parametrize(("role", "iot"), [("role-authenticated", "user"), ("role-dashboard", "dashboard")])
def test_each_role_is_scoped_like_its_iot_policy(role: str, iot: str) -> None:
    """The role policies grant exactly the statements of their IoT policy, with the same
    `${cognito-identity.amazonaws.com:sub}` variable (IAM resolves it for identity-pool credentials,
    cog-iot-policies.html / IAM reference_policies_variables.html). The effective permission of an
    authenticated identity is the intersection of role and IoT policies, so neither alone may be broader:
    if you change an IoT policy, change its role policy the same way (this test tells you)."""
    assert load_shipped(role).raw["Statement"] == load_shipped(iot).raw["Statement"], (
        f"iot_policies/{role}.json must grant what iot_policies/{iot}.json grants"
    )


@pytest.mark.parametrize(
    ("action", "name"),
    [
        (SUBSCRIBE, "chat/+/response/+"),
        (SUBSCRIBE, "dashboard/#"),
        (RECEIVE, f"chat/{OTHER}/response/{RID}"),
    ],
)
def test_a_former_dashboard_member_keeps_no_dashboard_access(action: str, name: str) -> None:
    """Removed from the `dashboard` group, a user signs in again and gets the authenticated role; the
    dashboard IoT policy may still be attached to the identity (AWS does not detach it), but the role's
    scope excludes every dashboard resource, so the intersection denies them."""
    decision = evaluate_authenticated(
        [load_shipped("user"), load_shipped("dashboard")],
        [load_shipped("role-authenticated")],
        action,
        resource_arn(action, name, account="123456789012"),
        USER,
    )
    assert not decision.allowed, decision.reason


def test_roles_alone_keep_each_identity_on_its_own_topics() -> None:
    """The role is no longer a broad ceiling: on its own it already refuses another identity's topics."""
    assert not decide(load_shipped("role-authenticated"), PUBLISH, f"chat/{OTHER}/prompt", USER).allowed
    assert decide(load_shipped("role-authenticated"), PUBLISH, f"chat/{IDENTITY}/prompt", USER).allowed
    assert not decide(load_shipped("role-dashboard"), PUBLISH, "dashboard/x", USER).allowed
