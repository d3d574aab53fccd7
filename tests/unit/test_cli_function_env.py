"""`iotstream up|demo --env KEY=VALUE --env-file FILE`: what reaches the Lambda functions' environment, and the
settings checked before anything starts (configuration-envvars.html: Lambda's reserved variables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.cli import main
from clients.cli.function_env import FunctionEnvError, function_environment
from tests.support.up_process import FREE_PORTS


def test_env_file_then_env_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An env file holds KEY=VALUE lines (blank lines, `#` comments and an `export ` prefix allowed, values
    literal as in `docker run --env-file`); `--env` wins over the file; `--env KEY` copies the shell's value."""
    env_file = tmp_path / "llm.env"
    env_file.write_text(
        "# the OpenAI-compatible server\n"
        "OPENAI_BASE_URL=http://127.0.0.1:8000/v1\n"
        "\n"
        "export OPENAI_MODEL=small\n"
        "SYSTEM_PROMPT=Be brief. Use = signs freely\n"
    )
    monkeypatch.setenv("OPENAI_API_KEY", "from-the-shell")
    environment = function_environment(["OPENAI_MODEL=large", "OPENAI_API_KEY"], env_file)
    assert environment == {
        "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1",
        "OPENAI_MODEL": "large",
        "SYSTEM_PROMPT": "Be brief. Use = signs freely",
        "OPENAI_API_KEY": "from-the-shell",
    }


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["=x"], "--env '=x': expected KEY=VALUE"),
        (["1BAD=x"], "not a valid environment variable name"),
        (["AWS_ACCESS_KEY_ID=AKIA..."], "AWS_ACCESS_KEY_ID is reserved by Lambda"),
        (["AWS_REGION=eu-west-1"], "AWS_REGION is reserved by Lambda"),
        (["LLM_PROVIDER=openai"], "use --llm"),
        (["NOT_IN_THIS_SHELL_3141"], "NOT_IN_THIS_SHELL_3141 is not set in this shell"),
    ],
)
def test_bad_env_flags_are_one_line_errors(flags: list[str], fragment: str) -> None:
    """Lambda refuses its reserved variables (AWS_REGION, AWS_ACCESS_KEY_ID, ...); malformed pairs and
    names are refused before anything starts."""
    with pytest.raises(FunctionEnvError) as caught:
        function_environment(flags, None)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_bad_env_files_are_one_line_errors(tmp_path: Path) -> None:
    """A missing file, a line without `=`, and a file that is not UTF-8 name the file (and line)."""
    with pytest.raises(FunctionEnvError, match="cannot read"):
        function_environment([], tmp_path / "missing.env")
    broken = tmp_path / "broken.env"
    broken.write_text("GOOD=1\nno equals sign here\n")
    with pytest.raises(FunctionEnvError, match=r"broken.env line 2: expected KEY=VALUE"):
        function_environment([], broken)
    latin = tmp_path / "latin.env"
    latin.write_bytes("NAME=caf\u00e9\n".encode("latin-1"))
    with pytest.raises(FunctionEnvError, match="not UTF-8"):
        function_environment([], latin)


@pytest.mark.parametrize("command", ["up", "demo"])
@pytest.mark.parametrize(
    ("llm", "extra", "fragment"),
    [
        ("openai", [], "--llm openai needs OPENAI_BASE_URL, OPENAI_MODEL"),
        ("openai", ["--env", "OPENAI_BASE_URL=http://127.0.0.1:9/v1"], "--llm openai needs OPENAI_MODEL"),
        ("bedrock", [], "--llm bedrock locally needs --env AWS_ENDPOINT_URL_BEDROCK_RUNTIME="),
        (
            "bedrock",
            ["--env", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:9"],
            "--llm bedrock needs BEDROCK_MODEL_ID",
        ),
        ("scripted", ["--env", "PUBLISH_MAX_PER_SECOND=fast"], "PUBLISH_MAX_PER_SECOND"),
        ("scripted", ["--env", "SCRIPTED_TTFT_MS=soon"], "SCRIPTED_TTFT_MS"),
    ],
)
def test_missing_or_bad_provider_settings_fail_at_start(
    command: str,
    llm: str,
    extra: list[str],
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The prompt function reads its LLM settings from its environment (docs/configuration.md): `up` and
    `demo` check them before starting anything, one line with the fix and exit 2, instead of a user
    waiting for an idle timeout while every invocation fails."""
    code = main([command, *FREE_PORTS, "--state-dir", str(tmp_path), "--llm", llm, *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and fragment in err and "--env" in err
    assert not any(tmp_path.iterdir())  # nothing was started: no local CA written
