"""`iotstream chat` as a user runs it: a subprocess started outside the repository, finding the stack through its
ready file, signing in through Cognito and streaming over MQTT 5 over SigV4 WebSockets
(https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html). Failures are one line and a non-zero status.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from clients import sign_in_user
from clients.targets import Target
from iotstream_lambdas.streaming.wire import End, Start, decode_event
from localcore.testing import RunningLocalcore
from tests.support.cli import FAST_SCRIPT, cli_environment, run_cli, start_cli
from tests.support.up_process import FREE_PORTS

Stack = tuple[RunningLocalcore, Target]


def test_chat_message_against_iotstream_up_from_a_new_directory(tmp_path: Path) -> None:
    """The issue's first check: `iotstream up` in a fresh directory writes `.localcore/ready.json`; `iotstream chat
    --message` run there (no flags, no setup) creates the local user, prints the streamed answer and exits 0."""
    environment = cli_environment(tmp_path)
    up, _ = start_cli(
        ["up", "--llm", "scripted", *FREE_PORTS], environment, tmp_path, "localcore ready", "stdout"
    )
    try:
        assert (tmp_path / ".localcore" / "ready.json").is_file()
        done = run_cli(["chat", "--message", "Hello, what is this?"], environment, tmp_path)
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 0
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MQTT streaming works.")  # the scripted model's default answer
    assert "end_turn" in done.stderr and "first token" in done.stderr and "messages" in done.stderr
    assert not (tmp_path / ".localcore" / "ready.json").exists()


def test_chat_json_prints_every_wire_event_as_a_json_line(fast: Stack, tmp_path: Path) -> None:
    """`--json`: stdout is only JSON lines, each a v1 event (decode_event), in seq order, one stream per message."""
    _, target = fast
    done = run_cli(
        ["chat", "--json", "-m", "one", "-m", "two"], cli_environment(tmp_path, target.source), tmp_path
    )
    assert done.returncode == 0, done.stderr
    events = [decode_event(json.loads(line)) for line in done.stdout.splitlines()]
    rids = list(dict.fromkeys(event.rid for event in events))
    assert len(rids) == 2
    for rid in rids:
        stream = [event for event in events if event.rid == rid]
        assert [event.seq for event in stream] == list(range(len(stream)))
        assert isinstance(stream[0], Start) and isinstance(stream[-1], End)


def test_chat_answers_each_line_of_stdin(fast: Stack, tmp_path: Path) -> None:
    """stdin that is not a terminal: each non-empty line is asked in turn, then exit 0."""
    _, target = fast
    done = run_cli(["chat"], cli_environment(tmp_path, target.source), tmp_path, stdin="first\n\nsecond\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{FAST_SCRIPT}\n{FAST_SCRIPT}\n"


def test_no_stack_running_is_one_line_saying_how_to_start_one(tmp_path: Path) -> None:
    """No ready file: exit status 4 and one line naming `iotstream up`, no traceback."""
    environment = cli_environment(tmp_path, tmp_path / "nothing-here.json")
    done = run_cli(["chat", "-m", "hi"], environment, tmp_path)
    assert done.returncode == 4
    assert done.stderr.count("\n") == 1 and "iotstream up" in done.stderr and "Traceback" not in done.stderr


def test_wrong_password_is_one_line_and_status_3(fast: Stack, tmp_path: Path) -> None:
    """Cognito's NotAuthorizedException for a user that exists with another password: exit 3, one line."""
    _, target = fast
    sign_in_user(target, "frank-cli", password="Franks-Passw0rd!")
    environment = cli_environment(tmp_path, target.source) | {"IOTSTREAM_PASSWORD": "Wrong-Passw0rd!"}
    done = run_cli(["chat", "--user", "frank-cli", "-m", "hi"], environment, tmp_path)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "wrong user name or password" in done.stderr


def test_aws_target_without_a_saved_sign_in_or_password_asks_for_one(tmp_path: Path) -> None:
    """`--aws cdk-outputs.json` (or IOTSTREAM_AWS_OUTPUTS) selects the deployed stack; with no saved sign-in, no
    IOTSTREAM_PASSWORD and no terminal to ask on, the chat says how to give the password (status 3) before any
    request leaves the machine. Nobody is created on AWS."""
    outputs = tmp_path / "cdk-outputs.json"
    keys = (
        "Region",
        "UserPoolId",
        "UserPoolClientId",
        "IdentityPoolId",
        "IotDataEndpoint",
        "AttachPolicyUrl",
    )
    values = {key: f"value-of-{key}" for key in keys} | {"DashboardShards": "8", "Topics": "{}"}
    outputs.write_text(json.dumps({"IotStream": values}))
    environment = cli_environment(tmp_path)
    for arguments, extra in (
        (["chat", "--aws", str(outputs), "--user", "alice", "-m", "hi"], {}),
        (["chat", "--user", "alice", "-m", "hi"], {"IOTSTREAM_AWS_OUTPUTS": str(outputs)}),
    ):
        done = run_cli(arguments, environment | extra, tmp_path)
        assert done.returncode == 3, done.stderr
        assert done.stderr.count("\n") == 1 and "IOTSTREAM_PASSWORD" in done.stderr
