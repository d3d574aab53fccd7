"""`iotstream policy check|validate|list` (DESIGN.md command table): decisions, exit codes, error places."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clients.cli import main
from clients.cli.policy import canonical_action

ID = "us-east-1:6f1c2d3e-0a1b-4c2d-8e3f-0123456789ab"
OTHER = "us-east-1:0b9e8d7c-1111-4222-8333-ba9876543210"


def _check(*extra: str) -> list[str]:
    return ["policy", "check", "--identity", ID, *extra]


def test_allowed_prints_the_deciding_statement(capsys: pytest.CaptureFixture[str]) -> None:
    """A user may subscribe to its own responses (DESIGN.md topics table); exit 0 and the statement."""
    code = main(
        _check("--policy", "user", "--action", "iot:Subscribe", "--resource", f"chat/{ID}/response/+")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("ALLOWED")
    assert "Statement[2] (Sid SubscribeOwnResponses)" in out
    assert f"topicfilter/chat/{ID}/response/+" in out


def test_denied_exits_one_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """`chat/#` is a literal filter no user statement matches (pub-sub-policy.html): exit 1."""
    code = main(_check("--policy", "user", "--action", "Subscribe", "--resource", "chat/#"))
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("DENIED")
    assert "no matching allow" in out


def test_role_makes_it_an_authenticated_intersection(capsys: pytest.CaptureFixture[str]) -> None:
    """With --role the IAM role policy and the IoT policy must both allow (cog-iot-policies.html)."""
    code = main(
        _check(
            "--policy",
            "user",
            "--role",
            "role-dashboard",
            "--action",
            "iot:Publish",
            "--resource",
            f"chat/{ID}/prompt",
        )
    )
    assert code == 1
    assert "role policy: no matching allow" in capsys.readouterr().out
    code = main(
        _check(
            "--policy",
            "user",
            "--role",
            "role-authenticated",
            "--action",
            "iot:Publish",
            "--resource",
            f"chat/{ID}/prompt",
        )
    )
    assert code == 0


def test_role_without_iot_policy_is_denied(capsys: pytest.CaptureFixture[str]) -> None:
    """An authenticated identity with no IoT policy attached is denied everything (cog-iot-policies.html)."""
    code = main(_check("--role", "role-authenticated", "--action", "iot:Connect", "--resource", ID))
    assert code == 1
    assert "no IoT policy is attached" in capsys.readouterr().out


def test_unauthenticated_uses_the_role_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """Unauthenticated identities are authorized by the role policy only (cog-iot-policies.html)."""
    code = main(
        _check(
            "--role",
            "role-authenticated",
            "--unauthenticated",
            "--action",
            "iot:Connect",
            "--resource",
            ID,
        )
    )
    assert code == 0
    assert "role-authenticated" in capsys.readouterr().out


def test_connect_uses_the_resource_as_client_id(capsys: pytest.CaptureFixture[str]) -> None:
    """For iot:Connect the client id defaults to the resource; connecting as another id is denied."""
    assert main(_check("--policy", "user", "--action", "iot:Connect", "--resource", f"{ID}-tab")) == 0
    assert main(_check("--policy", "user", "--action", "iot:Connect", "--resource", OTHER)) == 1
    assert f"iot:ClientId = {OTHER}" in capsys.readouterr().out


def test_policy_file_and_variables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--policy-file and --var feed a custom document and its `${iot:Connection.Thing.ThingName}` variable
    (thing-policy-variables.html)."""
    path = tmp_path / "things.json"
    path.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": "arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*",
                },
            }
        )
    )
    args = [
        "policy",
        "check",
        "--policy-file",
        str(path),
        "--action",
        "iot:Publish",
        "--resource",
        "things/t1/x",
    ]
    assert main([*args, "--var", "iot:Connection.Thing.ThingName=t1"]) == 0
    assert "allowed by policy 'things'" in capsys.readouterr().out
    assert main(args) == 1  # unresolved variable matches nothing


def test_bad_document_exits_two_with_its_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed document is reported with the offending place, exit 2."""
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
                    {"Effect": "Permit", "Action": "iot:Connect", "Resource": "*"},
                ],
            }
        )
    )
    code = main(["policy", "check", "--policy-file", str(path), "--action", "iot:Connect", "--resource", "c"])
    assert code == 2
    assert "policy 'bad': Statement[1].Effect" in capsys.readouterr().err
    assert main(["policy", "validate", str(path)]) == 2
    assert "INVALID" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra",
    [
        ["--policy", "nope", "--action", "iot:Connect", "--resource", "c"],
        ["--policy", "user", "--action", "iot:Frobnicate", "--resource", "c"],
        ["--policy", "user", "--action", "iot:Connect", "--resource", "c", "--var", "novalue"],
        ["--action", "iot:Connect", "--resource", "c"],
        [
            "--policy",
            "user",
            "--role",
            "role-authenticated",
            "--unauthenticated",
            "--action",
            "iot:Connect",
            "--resource",
            "c",
        ],
    ],
)
def test_bad_arguments_exit_two(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown policy names, actions without an ARN form, malformed --var and missing policies: exit 2."""
    assert main(["policy", "check", *extra]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_validate_shipped_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`validate` accepts files and shipped names and reports size against the 2048 limit."""
    path = tmp_path / "ok.json"
    path.write_text(
        '{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "iot:*", "Resource": "*"}}'
    )
    assert main(["policy", "validate", "user", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK      user: 4 statement(s)" in out and "/2048 characters" in out


def test_list_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """`list` names the shipped policies; a bare `policy` explains itself and exits 2."""
    assert main(["policy", "list"]) == 0
    assert "role-authenticated" in capsys.readouterr().out
    assert main(["policy"]) == 2


def test_canonical_action_names() -> None:
    """Action names are case-insensitive in IAM; the CLI prints AWS's spelling."""
    assert canonical_action("subscribe") == "iot:Subscribe"
    assert canonical_action("IOT:retainpublish") == "iot:RetainPublish"
    assert canonical_action("iot:Custom") == "iot:Custom"
    assert canonical_action("s3:GetObject") == "s3:GetObject"


def test_installed_entry_point_runs_as_a_process() -> None:
    """`python -m clients.cli policy check` works as a real process with the documented exit code."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "clients.cli",
            *_check("--policy", "dashboard", "--action", "iot:Publish", "--resource", "dashboard/x"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("DENIED")
