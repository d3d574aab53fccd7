"""The `iotstream` command line dispatches to its subcommands."""

from __future__ import annotations

import pytest

from clients.cli import SUBCOMMANDS, build_parser, main


def test_every_subcommand_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`iotstream --help` names each command of DESIGN.md's command table."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_no_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the tool explains itself and exits non-zero."""
    assert main([]) == 2
    assert "usage: iotstream" in capsys.readouterr().out
