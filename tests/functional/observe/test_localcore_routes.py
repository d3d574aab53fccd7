"""`/_localcore/health`, `/_localcore/info` (anyone) and `/_localcore/status`, `/_localcore/events` (the local
admin only: SigV4, IAM action localcore:GetStatus / localcore:ReadEvents)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from clients.presign import AwsCredentials, sign_http_request
from localcore.testing import RunningLocalcore


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=10
        ) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_health_answers_ok_without_credentials(stack: RunningLocalcore) -> None:
    """A compose/Kubernetes health check needs no key: 200 {"status": "ok"} while the stack serves."""
    assert _get(f"{stack.url}/_localcore/health")[::2] == (200, {"status": "ok"})


def test_info_names_version_endpoints_and_the_project_but_no_secret(stack: RunningLocalcore) -> None:
    """Version (the same as `iotstream --version`), endpoints, the project and what it loaded; never the admin key."""
    status, _, info = _get(f"{stack.url}/_localcore/info")
    assert status == 200
    cli_version = subprocess.run(
        [sys.executable, "-m", "clients.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert info["version"] == cli_version
    assert info["project"].endswith("examples/greenhouse")
    assert (info["rules"], info["policies"], info["functions"]) == (
        ["heat_alert", "readings_to_function"],
        ["device"],
        ["readings"],
    )
    assert info["local_mode_policy"] == "device"
    assert info["endpoints"]["mqtt"] == stack.endpoints["mqtt"]
    assert stack.core.admin.secret_access_key not in json.dumps(info)


def test_status_is_for_the_admin_only(stack: RunningLocalcore) -> None:
    """Unsigned: 403 MissingAuthenticationTokenException; signed by a key whose role does not allow
    localcore:GetStatus (a Cognito identity's): 403 AccessDeniedException, IAM's words
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html); the admin: 200."""
    url = f"{stack.url}/_localcore/status"
    status, headers, _ = _get(url)
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")

    idp = stack.client("cognito-idp")
    idp.sign_up(ClientId="localcoreclient", Username="watcher", Password="watcher-Passw0rd")
    tokens = idp.initiate_auth(
        ClientId="localcoreclient",
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "watcher", "PASSWORD": "watcher-Passw0rd"},
    )["AuthenticationResult"]
    provider = "cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
    identity = stack.client("cognito-identity")
    identity_id = identity.get_id(
        IdentityPoolId=stack.endpoints["identity_pool_id"], Logins={provider: tokens["IdToken"]}
    )
    issued = identity.get_credentials_for_identity(
        IdentityId=identity_id["IdentityId"], Logins={provider: tokens["IdToken"]}
    )["Credentials"]
    user = AwsCredentials(issued["AccessKeyId"], issued["SecretKey"], issued["SessionToken"])
    status, headers, body = _get(url, sign_http_request("GET", url, user, "us-east-1", "localcore"))
    assert (status, headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")
    assert "localcore:GetStatus" in body["message"]

    admin = AwsCredentials(stack.core.admin.access_key_id, stack.core.admin.secret_access_key)
    status, _, body = _get(url, sign_http_request("GET", url, admin, "us-east-1", "localcore"))
    assert status == 200 and {"connections", "rules", "functions", "denials"} <= set(body)


@pytest.mark.parametrize("path", ["/_localcore/events", "/_localcore/events?follow=1"])
def test_events_are_for_the_admin_only(stack: RunningLocalcore, path: str) -> None:
    """Every identity's traffic is in the events: unsigned requests get 403 before any line is sent."""
    status, headers, _ = _get(f"{stack.url}{path}")
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")
