"""`--persist`: users, identities, policy attachments, rules created through the API and retained messages
survive a restart of localcore with the same state dir (localcore/persistence/).

AWS keeps all of these until they are deleted; localcore keeps them only when asked (`LocalcoreConfig.persist`,
`iotstream up --persist`), in `<state-dir>/state.json`.
"""

from __future__ import annotations

import base64
import json
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clients.local_app import local_config
from localcore.app import LocalcoreConfig
from localcore.broker.testing import MqttTestClient
from localcore.identity import DEFAULT_CLIENT_ID, DEFAULT_IDENTITY_POOL_ID, DEFAULT_USER_POOL_ID
from localcore.persistence import STATE_FILE, PersistenceError
from localcore.testing import RunningLocalcore
from tests.support.rules_stack import PROJECT as RULES_PROJECT

PASSWORD = "persisted-Passw0rd"
DEVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}],
}
PROVIDER = f"cognito-idp.us-east-1.amazonaws.com/{DEFAULT_USER_POOL_ID}"
RULE = {
    "sql": "SELECT * FROM 'devices/+/telemetry'",
    "awsIotSqlVersion": "2016-03-23",
    "actions": [
        {"republish": {"topic": "copies/${topic(2)}", "roleArn": "arn:aws:iam::000000000000:role/republish"}}
    ],
}


def _config(state_dir: Path, **overrides: Any) -> LocalcoreConfig:
    return local_config(state_dir=state_dir, persist=True, **overrides)


def _sign_in(core: RunningLocalcore, username: str) -> dict[str, Any]:
    result: dict[str, Any] = core.client("cognito-idp").initiate_auth(
        ClientId=DEFAULT_CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return result


def _identity_id(core: RunningLocalcore, id_token: str) -> str:
    identity: str = core.client("cognito-identity").get_id(
        IdentityPoolId=DEFAULT_IDENTITY_POOL_ID, Logins={PROVIDER: id_token}
    )["IdentityId"]
    return identity


def test_a_restart_with_persist_keeps_users_attachments_rules_and_retained_messages(tmp_path: Path) -> None:
    """A user signs in again with their password and gets the same identity id (cognito-identity GetId: "the
    same identity id every time" for a login), the policy attached to that identity is still attached, a rule
    made with CreateTopicRule still exists and runs, and a retained message is delivered to a new subscriber
    whose filter equals its topic (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-retain)."""
    with RunningLocalcore(_config(tmp_path)) as core:
        core.client("cognito-idp").sign_up(ClientId=DEFAULT_CLIENT_ID, Username="ada", Password=PASSWORD)
        identity_id = _identity_id(core, _sign_in(core, "ada")["IdToken"])
        iot = core.client("iot")
        iot.attach_policy(policyName="iotstream-user", target=identity_id)
        iot.create_topic_rule(ruleName="telemetry_copy", topicRulePayload=RULE)
        topic = f"chat/{identity_id}/response/{uuid.uuid4()}"
        core.client("iot-data").publish(topic=topic, qos=1, retain=True, payload=b'{"kept": true}')

    state = tmp_path / STATE_FILE
    assert stat.S_IMODE(state.stat().st_mode) == 0o600  # password hashes and signing keys: owner only

    with RunningLocalcore(_config(tmp_path)) as core:
        assert _identity_id(core, _sign_in(core, "ada")["IdToken"]) == identity_id
        iot = core.client("iot")
        assert identity_id in iot.list_targets_for_policy(policyName="iotstream-user")["targets"]
        assert iot.get_topic_rule(ruleName="telemetry_copy")["rule"]["sql"] == RULE["sql"]
        subscriber = MqttTestClient(core.mqtt_port, client_id=identity_id, username=identity_id).connect()
        try:
            assert subscriber.subscribe(topic, qos=1) == [1]
            (retained,) = subscriber.expect(1)
            assert (retained.topic, retained.payload, retained.retain) == (topic, b'{"kept": true}', True)
        finally:
            subscriber.disconnect()


def test_a_saved_refresh_token_still_signs_in_after_a_restart(tmp_path: Path) -> None:
    """The user pool's signing key, sessions and refresh tokens are kept, so a client's saved sign-in
    (REFRESH_TOKEN_AUTH, https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html)
    keeps working across a restart, as it does on AWS for the token's lifetime."""
    with RunningLocalcore(_config(tmp_path)) as core:
        core.client("cognito-idp").sign_up(ClientId=DEFAULT_CLIENT_ID, Username="bo", Password=PASSWORD)
        refresh = _sign_in(core, "bo")["RefreshToken"]
    with RunningLocalcore(_config(tmp_path)) as core:
        result = core.client("cognito-idp").initiate_auth(
            ClientId=DEFAULT_CLIENT_ID,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh},
        )["AuthenticationResult"]
        claims = json.loads(_jwt_part(result["IdToken"]))
        assert claims["cognito:username"] == "bo"


def _jwt_part(token: str) -> bytes:
    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def test_without_persist_a_restart_starts_empty(tmp_path: Path) -> None:
    """Persistence is opt-in: the same state dir without `persist` keeps nothing (and writes no state file)."""
    config = local_config(state_dir=tmp_path)
    with RunningLocalcore(config) as core:
        core.client("iot").create_topic_rule(ruleName="telemetry_copy", topicRulePayload=RULE)
    assert not (tmp_path / STATE_FILE).exists()
    with RunningLocalcore(config) as core, pytest.raises(ClientError) as missing:
        core.client("iot").get_topic_rule(ruleName="telemetry_copy")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_project_files_win_over_the_snapshot(tmp_path: Path) -> None:
    """The rules and policies the project's files define are read again at every start (an edited rule file
    applies after a restart); a rule deleted from the files is not brought back by the snapshot."""
    project = tmp_path / "project"
    (project / "iot_rules").mkdir(parents=True)
    (project / "iot_policies").mkdir()
    (project / "iot_policies" / "user.json").write_text(
        (RULES_PROJECT / "iot_policies" / "user.json").read_text()
    )
    rule_file = project / "iot_rules" / "copy.json"
    rule_file.write_text(json.dumps({"ruleName": "copy", **RULE}))
    config = _config(
        tmp_path / "state", rules_dir=project / "iot_rules", policies_dir=project / "iot_policies"
    )
    with RunningLocalcore(config) as core:
        assert core.client("iot").get_topic_rule(ruleName="copy")["rule"]["sql"] == RULE["sql"]
    edited = "SELECT * FROM 'devices/+/status'"
    rule_file.write_text(json.dumps({"ruleName": "copy", **RULE, "sql": edited}))
    with RunningLocalcore(config) as core:
        assert core.client("iot").get_topic_rule(ruleName="copy")["rule"]["sql"] == edited
    rule_file.unlink()
    with RunningLocalcore(config) as core:
        assert [r["ruleName"] for r in core.client("iot").list_topic_rules()["rules"]] == []


def test_a_broken_state_file_fails_the_start_in_one_line_naming_it(tmp_path: Path) -> None:
    """A state file that is not localcore's JSON stops the start with the file's name and the fix; nothing is
    left running and the file is left as it was."""
    state = tmp_path / STATE_FILE
    state.write_text("{not json")
    with pytest.raises(PersistenceError) as error:
        RunningLocalcore(_config(tmp_path)).start()
    message = str(error.value)
    assert str(state) in message and "\n" not in message and "--persist" in message
    assert state.read_text() == "{not json"


def test_restore_refuses_a_policy_that_no_longer_parses(tmp_path: Path) -> None:
    """A saved policy document that does not parse is named in the error, with the state file."""
    with RunningLocalcore(_config(tmp_path)) as core:
        core.client("iot").create_policy(policyName="device", policyDocument=json.dumps(DEVICE_POLICY))
    state = tmp_path / STATE_FILE
    document = json.loads(state.read_text())
    document["parts"]["iot"]["policies"]["policies"][0]["versions"][0]["text"] = "{}"
    state.write_text(json.dumps(document))
    with pytest.raises(PersistenceError, match=r"cannot restore iot: .*") as error:
        RunningLocalcore(_config(tmp_path)).start()
    assert str(state) in str(error.value)


def test_a_change_is_written_while_the_stack_runs(tmp_path: Path) -> None:
    """The state file follows changes within the save delay (0.5 s), not only at stop: a stack that is killed
    keeps what was created before its last write."""
    with RunningLocalcore(_config(tmp_path)) as core:
        saver = core.core.saver
        assert saver is not None
        written = saver.saves
        core.client("iot").create_topic_rule(ruleName="telemetry_copy", topicRulePayload=RULE)
        core.thread.run(saver.wait_saves(written + 1), timeout=10)
        saved = json.loads((tmp_path / STATE_FILE).read_text())
        assert [r["name"] for r in saved["parts"]["iot"]["rules"]["rules"]] == ["telemetry_copy"]
