"""The policy store follows the IoT API's rules for policies, versions and attachments."""

from __future__ import annotations

import json

import pytest

from iot_policies.library import shipped_path
from localcore.iot.exceptions import IotError
from localcore.iot.policies import MAX_POLICIES_PER_TARGET, MAX_VERSIONS, PolicyStore

IDENTITY = "us-east-1:11111111-2222-3333-4444-555555555555"
ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
)


@pytest.fixture
def store() -> PolicyStore:
    store = PolicyStore()
    store.create_policy("user", shipped_path("user").read_text())
    return store


def test_create_twice_is_resource_already_exists(store: PolicyStore) -> None:
    """CreatePolicy on an existing name: ResourceAlreadyExistsException (API_CreatePolicy)."""
    with pytest.raises(IotError) as error:
        store.create_policy("user", ALLOW_ALL)
    assert error.value.code == "ResourceAlreadyExistsException"


def test_malformed_document_is_refused_with_its_place(store: PolicyStore) -> None:
    """CreatePolicy validates the document: MalformedPolicyException names what is wrong."""
    with pytest.raises(IotError) as error:
        store.create_policy("bad", '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}')
    assert error.value.code == "MalformedPolicyException"
    assert "Statement[0]" in error.value.message


def test_attach_is_idempotent_and_limited_to_ten(store: PolicyStore) -> None:
    """Up to 10 policies per Cognito identity (iot-core quotas); attaching twice changes nothing."""
    store.attach("user", IDENTITY)
    store.attach("user", IDENTITY)
    assert [p.name for p in store.attached_to(IDENTITY)] == ["user"]
    for n in range(MAX_POLICIES_PER_TARGET - 1):
        store.create_policy(f"p{n}", ALLOW_ALL)
        store.attach(f"p{n}", IDENTITY)
    store.create_policy("one-too-many", ALLOW_ALL)
    with pytest.raises(IotError) as error:
        store.attach("one-too-many", IDENTITY)
    assert error.value.code == "LimitExceededException"


def test_attached_policy_cannot_be_deleted(store: PolicyStore) -> None:
    """DeletePolicy on an attached policy: DeleteConflictException; after DetachPolicy it goes."""
    store.attach("user", IDENTITY)
    with pytest.raises(IotError) as error:
        store.delete_policy("user")
    assert error.value.code == "DeleteConflictException"
    store.detach("user", IDENTITY)
    store.delete_policy("user")
    assert store.list_policies() == []


def test_versions_limit_and_default_switch_change_what_is_evaluated(store: PolicyStore) -> None:
    """At most 5 versions per policy; the default version is the one evaluated, immediately."""
    store.attach("user", IDENTITY)
    before = store.generation
    store.create_policy_version("user", ALLOW_ALL, set_as_default=True)
    assert store.generation > before
    assert store.documents_for(IDENTITY)[0].statements[0].effect == "Allow"
    assert len(store.documents_for(IDENTITY)[0].statements) == 1
    for _ in range(MAX_VERSIONS - 2):
        store.create_policy_version("user", ALLOW_ALL, set_as_default=False)
    with pytest.raises(IotError) as error:
        store.create_policy_version("user", ALLOW_ALL, set_as_default=False)
    assert error.value.code == "VersionsLimitExceededException"
    store.set_default_version("user", "1")
    assert len(store.documents_for(IDENTITY)[0].statements) == 4
    with pytest.raises(IotError):
        store.delete_policy_version("user", "1")
