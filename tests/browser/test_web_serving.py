"""`iotstream up`'s HTTP port serves the pages beside the AWS APIs: GET routes for the pages and config.json, while
Cognito's JSON APIs keep answering `POST /` by `X-Amz-Target`
(https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/Welcome.html: JSON 1.1 over POST)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from clients.config import ClientConfig
from clients.session import sign_up
from clients.web import mount_pages
from localcore.http.gateway import Gateway
from localcore.http.testing import GatewayThread

CONFIG_KEYS = {
    "region",
    "userPoolId",
    "userPoolClientId",
    "identityPoolId",
    "mqttEndpoint",
    "attachPolicyUrl",
    "cognitoEndpoint",
    "dashboardShards",
}


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/", b"assets/chat.js"),
        ("/dashboard", b"assets/dashboard.js"),
        ("/dashboard.html", b"assets/dashboard.js"),
    ],
)
def test_pages_are_served_as_html(web_stack, path, marker):
    status, content_type, body = get(web_stack.url + path)
    assert status == 200 and content_type.startswith("text/html") and marker in body


def test_assets_are_served_and_nothing_else(web_stack):
    status, content_type, body = get(web_stack.url + "/assets/chat.js")
    assert status == 200 and content_type.startswith("text/javascript") and body
    for path in ("/assets/nope.js", "/assets/..%2f..%2fserver.py", "/assets/.hidden"):
        assert get(web_stack.url + path)[0] == 404


def test_config_json_describes_this_stack_with_the_contract_keys(web_stack):
    """docs/web.md (config.json): the same keys locally and on AWS; locally Cognito is this gateway and the broker its ws:// port."""
    status, content_type, body = get(web_stack.url + "/config.json")
    config = json.loads(body)
    assert status == 200 and content_type == "application/json"
    assert set(config) == CONFIG_KEYS
    assert config["mqttEndpoint"] == f"ws://127.0.0.1:{web_stack.ws_port}"
    assert config["cognitoEndpoint"] == web_stack.url
    assert config["attachPolicyUrl"] == web_stack.endpoints["attach_policy_url"]
    assert config["dashboardShards"] == web_stack.endpoints["dashboard_shards"]


def test_cognito_json_api_still_answers_post_on_the_same_port(web_stack):
    """The pages only add GET routes: boto3's SignUp (POST / with X-Amz-Target) works as before."""
    result = sign_up(
        ClientConfig.from_localcore(web_stack.endpoints), "serving-check", "Passw0rd!-local", "s@e.x"
    )
    assert result.user_sub


def test_unbuilt_pages_answer_503_with_the_fix(tmp_path):
    """A tree where setup did not build the pages says how to build them, instead of a bare 404."""
    gateway = Gateway()
    mount_pages(gateway, dict, tmp_path)
    with GatewayThread(gateway) as running:
        status, _, body = get(running.url + "/")
    assert status == 503 and b"make setup" in body
