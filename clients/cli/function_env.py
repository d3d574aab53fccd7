"""The Lambda functions' environment given on the command line (`--env`, `--env-file`), checked before start.

On AWS the deployer sets these variables on the function (CDK); locally `iotstream up` and `demo` pass them to
every function localcore runs, because a function sees nothing of the shell it was started from (a Lambda
sandbox). docs/configuration.md lists every variable the functions read.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from iotstream_lambdas.streaming.config import service_config_from_env
from iotstream_lambdas.streaming.errors import StreamingError
from iotstream_lambdas.streaming.llm import missing_settings, provider_from_env
from localcore.functions.env_file import EnvFileError, checked_name, read_env_file

PROVIDER_VARIABLE = "LLM_PROVIDER"
BEDROCK_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"


FunctionEnvError = EnvFileError
"""A `--env` / `--env-file` value, or the settings they make, cannot work: the message says what to fix."""


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable in the Lambda functions' environment (repeatable); KEY alone copies this "
        "shell's value; see docs/configuration.md",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        metavar="FILE",
        help="KEY=VALUE lines for the functions' environment (# comments; --env wins)",
    )


def function_environment(pairs: Sequence[str], env_file: Path | None) -> dict[str, str]:
    """The variables from `env_file`, then from `--env` pairs; FunctionEnvError for anything malformed."""
    environment = {} if env_file is None else read_env_file(env_file, _checked)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not key:
            raise FunctionEnvError(f"--env {pair!r}: expected KEY=VALUE (or KEY to copy this shell's value)")
        if not sep:
            if key not in os.environ:
                raise FunctionEnvError(f"--env {key}: {key} is not set in this shell; give --env {key}=VALUE")
            value = os.environ[key]
        environment[_checked(key, f"--env {pair!r}")] = value
    return environment


def _checked(key: str, where: str) -> str:
    checked_name(key, where)
    if key == PROVIDER_VARIABLE:
        raise FunctionEnvError(f"{where}: use --llm to choose the LLM, not {PROVIDER_VARIABLE}")
    return key


def check_prompt_settings(llm: str, environment: Mapping[str, str]) -> None:
    """What the prompt function would fail on at its first invocation, raised now as FunctionEnvError:
    the chosen provider's required settings, and numbers that do not parse."""
    settings = {**environment, PROVIDER_VARIABLE: llm}
    if llm == "bedrock" and BEDROCK_ENDPOINT_VARIABLE not in settings:
        raise FunctionEnvError(
            f"--llm bedrock locally needs --env {BEDROCK_ENDPOINT_VARIABLE}=<a Bedrock-compatible endpoint>: "
            "localcore does not emulate Bedrock and AWS refuses the credentials it issues"
        )
    missing = missing_settings(settings)
    if missing:
        example = " ".join(f"--env {key}=..." for key in missing)
        raise FunctionEnvError(f"--llm {llm} needs {', '.join(missing)}: give {example} or an --env-file")
    try:
        service_config_from_env(settings)
        if llm == "scripted":  # cheap to build: every SCRIPTED_* number is parsed
            provider_from_env(settings)
    except (ValueError, StreamingError) as error:
        raise FunctionEnvError(
            f"the functions' environment does not work: {error} (check your --env values)"
        ) from None
