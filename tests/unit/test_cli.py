"""The `iotstream` command line dispatches to its subcommands."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from clients.cli import SUBCOMMANDS, build_parser, main
from tests.support.up_process import FREE_PORTS

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommand_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`iotstream --help` names each command of docs/architecture.md's command line."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_no_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the tool explains itself and exits non-zero."""
    assert main([]) == 2
    assert "usage: iotstream" in capsys.readouterr().out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`iotstream --version` prints the installed distribution's version and exits 0 (argparse convention)."""
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"iotstream {version('iotstream')}"


@pytest.mark.parametrize(
    "command",
    [
        ["policy", "list"],
        ["policy", "check", "--policy", "user", "--action", "iot:Connect", "--resource", "c1"],
        ["rules", "list"],
        ["up", "--llm", "scripted", *FREE_PORTS],
    ],
    ids=["policy-list", "policy-check", "rules-list", "up"],
)
def test_a_closed_pipe_is_silent(command: list[str], tmp_path: Path) -> None:
    """`iotstream policy check ... | head -1`: when the reader has gone (EPIPE) the command stops quietly with
    a non-zero status, no BrokenPipeError traceback (Python docs, "Note on SIGPIPE")."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written: every write fails with EPIPE
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "clients.cli",
                *command,
                *(["--state-dir", str(tmp_path)] if command[0] == "up" else []),
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""


def test_an_unexpected_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in a subcommand reaches the user as one line naming the command and how to see the traceback,
    exit status 1; IOTSTREAM_DEBUG=1 shows the traceback."""
    import clients.cli.policy as policy

    def broken(_: object) -> int:
        raise RuntimeError("the evaluator fell over")

    monkeypatch.setattr(policy, "run", broken)
    assert main(["policy", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "iotstream policy: unexpected error: RuntimeError: the evaluator fell over" in err
    assert "IOTSTREAM_DEBUG=1" in err
    monkeypatch.setenv("IOTSTREAM_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["policy", "list"])


def test_ctrl_c_is_one_line_and_status_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C (KeyboardInterrupt) ends any command with "interrupted" and the shell's 128+SIGINT status."""
    import clients.cli.policy as policy

    def interrupted(_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(policy, "run", interrupted)
    assert main(["policy", "list"]) == 130
    assert capsys.readouterr().err == "iotstream policy: interrupted\n"


def test_up_with_a_broken_rule_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule file that is not JSON stops `iotstream up` before any server starts, with the file named in
    one line (exit 2), not a traceback (CreateTopicRule takes a JSON TopicRulePayload)."""
    (tmp_path / "iot_rules").mkdir()
    (tmp_path / "iot_policies").mkdir()
    (tmp_path / "iot_rules" / "broken.json").write_text('{"ruleName": ')
    assert main(["up", "--project", str(tmp_path), "--state-dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"iotstream up: {tmp_path / 'iot_rules' / 'broken.json'}: (file): not valid JSON: Expecting value (line 1, column 14)\n"
    )
    assert not (tmp_path / "state").exists()


def test_explain_refusals_is_off_unless_asked() -> None:
    """`--explain-refusals` (development) reaches the stack's configuration; without it the 403 body of a
    refused SigV4 upgrade stays silent, as on AWS (protocols.html)."""
    from clients.cli.up import stack_config
    from localcore.project import builtin_project

    parser = build_parser("up")
    project = builtin_project()
    contents = project.check()
    explained = parser.parse_args(["up", "--llm", "scripted", "--explain-refusals"])
    assert stack_config(explained, project, contents).explain_refusals
    assert not stack_config(
        parser.parse_args(["up", "--llm", "scripted"]), project, contents
    ).explain_refusals
