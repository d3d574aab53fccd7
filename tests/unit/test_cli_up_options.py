"""`iotstream up` options that shape the stack (no stack is started here)."""

from __future__ import annotations

import argparse

import pytest

from clients.cli.up import configure, stack_config
from localcore.lambda_runtime import ConcurrencyConfig
from localcore.project import builtin_project


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="iotstream up")
    configure(parser)
    return parser.parse_args(list(argv))


def test_lambda_concurrency_sets_the_account_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """--lambda-concurrency N is the local account's concurrency limit (default: from the machine's memory and cores); 0 is refused
    with one line naming the option (docs/lambda-runtime.md)."""
    project = builtin_project()
    contents = project.check()
    assert stack_config(parse(), project, contents).functions.concurrency == ConcurrencyConfig()
    three = stack_config(parse("--lambda-concurrency", "3"), project, contents)
    assert three.functions.concurrency.account_limit == 3
    with pytest.raises(SystemExit) as exited:
        parse("--lambda-concurrency", "0")
    assert exited.value.code == 2
    assert "--lambda-concurrency: expected a whole number of 1 or more, got '0'" in capsys.readouterr().err
