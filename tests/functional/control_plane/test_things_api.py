"""boto3's `iot` client manages the thing registry on localcore as the AWS IoT API reference describes it.

Pages: https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html, API_DescribeThing,
API_ListThings, API_UpdateThing, API_DeleteThing, API_AttachThingPrincipal, API_DetachThingPrincipal,
API_ListThingPrincipals, API_ListPrincipalThings and their V2 forms.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.control_plane_stack import IDENTITY, iot_client


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_create_and_describe_a_thing(control_plane: dict[str, Any]) -> None:
    """CreateThing answers thingName, thingArn, thingId; repeating it with the same configuration succeeds with
    the same thing, with another one it is ResourceAlreadyExistsException. DescribeThing adds defaultClientId
    (the name), attributes and version 1; an unknown thing is ResourceNotFoundException."""
    iot = iot_client(control_plane["url"])
    thing = name("sensor")
    created = iot.create_thing(thingName=thing, attributePayload={"attributes": {"fleet": "north"}})
    assert created["thingArn"] == f"arn:aws:iot:us-east-1:000000000000:thing/{thing}"
    again = iot.create_thing(thingName=thing, attributePayload={"attributes": {"fleet": "north"}})
    assert again["thingId"] == created["thingId"]
    with pytest.raises(ClientError) as conflict:
        iot.create_thing(thingName=thing, attributePayload={"attributes": {"fleet": "south"}})
    assert error_code(conflict) == "ResourceAlreadyExistsException"
    described = iot.describe_thing(thingName=thing)
    described.pop("ResponseMetadata")
    assert described == {
        "defaultClientId": thing,
        "thingName": thing,
        "thingId": created["thingId"],
        "thingArn": created["thingArn"],
        "attributes": {"fleet": "north"},
        "version": 1,
    }
    with pytest.raises(ClientError) as missing:
        iot.describe_thing(thingName=name("nothing"))
    assert error_code(missing) == "ResourceNotFoundException"


def test_names_attributes_and_unemulated_parts_are_checked(control_plane: dict[str, Any]) -> None:
    """Thing names match [a-zA-Z0-9:_-]+ and attribute values [a-zA-Z0-9_.,@/:#=\\[\\]-]* (ThingAttribute); a
    thing without a thing type has at most three attributes (AWS::IoT::Thing AttributePayload): each is
    InvalidRequestException. A thing type or billing group names something that does not exist here
    (ResourceNotFoundException, saying localcore does not emulate it)."""
    iot = iot_client(control_plane["url"])
    bad_calls = [
        lambda: iot.create_thing(thingName="has space"),
        lambda: iot.create_thing(thingName=name("t"), attributePayload={"attributes": {"a": "no spaces"}}),
        lambda: iot.create_thing(
            thingName=name("t"), attributePayload={"attributes": {k: "v" for k in "abcd"}}
        ),
    ]
    for call in bad_calls:
        with pytest.raises(ClientError) as refused:
            call()
        assert error_code(refused) == "InvalidRequestException"
    with pytest.raises(ClientError) as typed:
        iot.create_thing(thingName=name("t"), thingTypeName="sensor")
    assert error_code(typed) == "ResourceNotFoundException"
    assert "thing types" in typed.value.response["Error"]["Message"]


def test_update_thing_merges_removes_and_checks_the_version(control_plane: dict[str, Any]) -> None:
    """UpdateThing replaces the attributes, or merges them with `merge`; an empty value removes an attribute;
    each update bumps the version; a wrong expectedVersion is VersionConflictException (409)."""
    iot = iot_client(control_plane["url"])
    thing = name("updated")
    iot.create_thing(thingName=thing, attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName=thing, attributePayload={"attributes": {"c": "3"}, "merge": True})
    assert iot.describe_thing(thingName=thing)["attributes"] == {"a": "1", "b": "2", "c": "3"}
    iot.update_thing(
        thingName=thing, attributePayload={"attributes": {"a": ""}, "merge": True}, expectedVersion=2
    )
    assert iot.describe_thing(thingName=thing)["attributes"] == {"b": "2", "c": "3"}
    iot.update_thing(thingName=thing, attributePayload={"attributes": {"z": "9"}})
    described = iot.describe_thing(thingName=thing)
    assert (described["attributes"], described["version"]) == ({"z": "9"}, 4)
    with pytest.raises(ClientError) as stale:
        iot.update_thing(thingName=thing, attributePayload={"attributes": {}}, expectedVersion=1)
    assert error_code(stale) == "VersionConflictException"
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_list_things_filters_and_pages(control_plane: dict[str, Any]) -> None:
    """ListThings: `ThingAttribute` items, the attributeName/attributeValue filter (a prefix with
    usePrefixAttributeValue), maxResults with nextToken, walked by boto3's paginator."""
    iot = iot_client(control_plane["url"])
    fleet = uuid.uuid4().hex[:8]
    made = sorted(name("listed") for _ in range(3))
    for index, thing in enumerate(made):
        iot.create_thing(thingName=thing, attributePayload={"attributes": {"fleet": f"{fleet}-{index}"}})
    exact = iot.list_things(attributeName="fleet", attributeValue=f"{fleet}-1")["things"]
    assert [t["thingName"] for t in exact] == [made[1]]
    assert set(exact[0]) == {"thingName", "thingArn", "attributes", "version"}
    prefixed = iot.list_things(attributeName="fleet", attributeValue=fleet, usePrefixAttributeValue=True)
    assert [t["thingName"] for t in prefixed["things"]] == made
    first = iot.list_things(
        attributeName="fleet", attributeValue=fleet, usePrefixAttributeValue=True, maxResults=2
    )
    assert len(first["things"]) == 2 and "nextToken" in first
    pages = iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 1})
    assert set(made) <= {t["thingName"] for page in pages for t in page["things"]}


def test_principals_attach_detach_and_list(control_plane: dict[str, Any]) -> None:
    """AttachThingPrincipal (certificate ARN or Cognito identity id) is listed both ways; V2 lists carry
    thingPrincipalType (NON_EXCLUSIVE_THING by default). An EXCLUSIVE_THING principal is attached to one thing
    only: attaching it to a second thing, or exclusively while it has another, is InvalidRequestException.
    A certificate ARN that names nothing is ResourceNotFoundException."""
    iot = iot_client(control_plane["url"])
    arn = iot.create_keys_and_certificate()["certificateArn"]
    first, second = name("first"), name("second")
    for thing in (first, second):
        iot.create_thing(thingName=thing)
    iot.attach_thing_principal(thingName=first, principal=arn)
    iot.attach_thing_principal(thingName=first, principal=IDENTITY)
    assert iot.list_thing_principals(thingName=first)["principals"] == sorted([arn, IDENTITY])
    assert iot.list_principal_things(principal=arn)["things"] == [first]
    objects = iot.list_thing_principals_v2(thingName=first)["thingPrincipalObjects"]
    assert {(o["principal"], o["thingPrincipalType"]) for o in objects} == {
        (arn, "NON_EXCLUSIVE_THING"),
        (IDENTITY, "NON_EXCLUSIVE_THING"),
    }
    with pytest.raises(ClientError) as exclusive_elsewhere:
        iot.attach_thing_principal(thingName=second, principal=arn, thingPrincipalType="EXCLUSIVE_THING")
    assert error_code(exclusive_elsewhere) == "InvalidRequestException"
    iot.attach_thing_principal(thingName=first, principal=arn, thingPrincipalType="EXCLUSIVE_THING")
    assert iot.list_principal_things_v2(principal=arn)["principalThingObjects"] == [
        {"thingName": first, "thingPrincipalType": "EXCLUSIVE_THING"}
    ]
    with pytest.raises(ClientError) as second_thing:
        iot.attach_thing_principal(thingName=second, principal=arn)
    assert error_code(second_thing) == "InvalidRequestException"
    iot.detach_thing_principal(thingName=first, principal=arn)
    assert iot.list_principal_things(principal=arn)["things"] == []
    with pytest.raises(ClientError) as unknown:
        iot.attach_thing_principal(thingName=first, principal=arn.rsplit("/", 1)[0] + "/" + "e" * 64)
    assert error_code(unknown) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as no_thing:
        iot.list_thing_principals(thingName=name("nothing"))
    assert error_code(no_thing) == "ResourceNotFoundException"


def test_delete_thing(control_plane: dict[str, Any]) -> None:
    """DeleteThing "returns successfully with no error if ... you specify a thing that doesn't exist"; a thing
    with principals attached is refused with AWS's words (InvalidRequestException "Cannot delete. Thing X is
    still attached to one or more principals", aws/aws-connected-device-framework#76); expectedVersion is
    checked (VersionConflictException)."""
    iot = iot_client(control_plane["url"])
    iot.delete_thing(thingName=name("never-created"))
    thing = name("deleted")
    iot.create_thing(thingName=thing)
    iot.attach_thing_principal(thingName=thing, principal=IDENTITY)
    with pytest.raises(ClientError) as attached:
        iot.delete_thing(thingName=thing)
    assert error_code(attached) == "InvalidRequestException"
    message = attached.value.response["Error"]["Message"]
    assert message == f"Cannot delete. Thing {thing} is still attached to one or more principals"
    iot.detach_thing_principal(thingName=thing, principal=IDENTITY)
    with pytest.raises(ClientError) as stale:
        iot.delete_thing(thingName=thing, expectedVersion=7)
    assert error_code(stale) == "VersionConflictException"
    iot.delete_thing(thingName=thing, expectedVersion=1)
    with pytest.raises(ClientError) as gone:
        iot.describe_thing(thingName=thing)
    assert error_code(gone) == "ResourceNotFoundException"
