"""`iotstream dashboard` beside `iotstream chat`, both as subprocesses: the dashboard sees the chat's answer on the
feed; a user outside the `dashboard` group is refused by the policy (MQTT 5 SUBACK 0x87 Not authorized,
https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html) in one line.

Locally the dashboard user is created and put in the group with the ready file's admin keys, a SigV4-signed
AdminAddUserToGroup (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminAddUserToGroup.html).
"""

from __future__ import annotations

import json
from pathlib import Path

from clients.targets import Target
from localcore.testing import RunningLocalcore
from tests.support.cli import cli_environment, run_cli, start_cli

Stack = tuple[RunningLocalcore, Target]


def test_dashboard_exit_after_1_sees_the_chats_answer(fast: Stack, tmp_path: Path) -> None:
    """`dashboard --exit-after 1 --json` started first; `chat --json -m …` then answers; the dashboard prints that
    rid's updates (started … end) with the chat's token count and leaves with status 0."""
    core, target = fast
    core.wait_lambdas_idle()  # no final update of an earlier test is still on its way
    environment = cli_environment(tmp_path, target.source)
    dashboard, banner = start_cli(
        ["dashboard", "--exit-after", "1", "--json"],
        environment,
        tmp_path,
        " reads dashboard/streams/0",
        "stderr",
    )
    try:
        assert "(8 connections)" in banner, banner
        chat = run_cli(["chat", "--json", "-m", "hello dashboard"], environment, tmp_path)
        assert chat.returncode == 0, chat.stderr
        out, _ = dashboard.communicate(timeout=30)
    finally:
        dashboard.kill()
    assert dashboard.returncode == 0
    events = [json.loads(line) for line in chat.stdout.splitlines()]
    rid, end = events[0]["rid"], events[-1]
    updates = [json.loads(line) for line in out.splitlines()]
    assert [u["rid"] for u in updates] == [rid] * len(updates)
    assert updates[0]["state"] == "started" and updates[-1]["state"] == "end"
    assert updates[-1]["tokens"] == end["metrics"]["tokens"] and updates[-1]["stop"] == end["stop"]


def test_normal_user_dashboard_is_refused_in_one_line(fast: Stack, tmp_path: Path) -> None:
    """A chat user (created by `iotstream chat`, so not in the group) opening a dashboard: status 5, one line
    naming the refusal and the `dashboard` group."""
    _, target = fast
    environment = cli_environment(tmp_path, target.source)
    assert run_cli(["chat", "--user", "gina-chat", "-m", "hi"], environment, tmp_path).returncode == 0
    done = run_cli(["dashboard", "--user", "gina-chat", "--exit-after", "1"], environment, tmp_path)
    assert done.returncode == 5
    assert done.stderr.count("\n") == 1, done.stderr
    assert "SUBACK 0x87" in done.stderr and "dashboard" in done.stderr and "Traceback" not in done.stderr
