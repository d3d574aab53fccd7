"""pytest plugin (entry point `localcore`): test YOUR IoT rules and policies against a running localcore.

Fixtures:
- `localcore_config` (session): the `LocalcoreConfig` of your project (found as `iotstream up` finds it:
  `localcore.project`); override it in your `conftest.py` for full control (`project_config` helps).
- `localcore` (session): a `RunningLocalcore` (broker, iot-data, IoT control plane, rules engine, Lambda) on free
  ports in a background thread; `.client("iot")`, `.client("iot-data")`, `.wait_rules_idle()`, ...
- `mqtt_client` (function): a factory `mqtt_client(identity, client_id=None, protocol=5)` returning a connected
  paho test client (`localcore.broker.testing.MqttTestClient`): local mode, MQTT username = identity, so the
  project's local-mode policy (`user.json`, or `local_mode_policy`) decides what it may do. Disconnected after
  the test.

Options (command line, or the same names with `_` in the ini file; paths relative to the rootdir):
`--localcore-project` (default: the rootdir's project: `[tool.iotstream]` of its pyproject.toml, else the
conventional folders, looked for from the rootdir upwards), `--localcore-rules-dir`, `--localcore-policies-dir`,
`--localcore-lambdas-dir` (a folder with `functions.json`) to replace one of the project's folders,
`--localcore-lambda-env KEY=VALUE` (repeatable; added to the project's env file). A missing or broken project
file stops the session once, in one line naming the file. See docs/testing-your-rules.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from localcore.app import LocalcoreConfig
    from localcore.broker.testing import MqttTestClient
    from localcore.project import Project
    from localcore.testing import RunningLocalcore

OPTIONS: dict[str, str] = {
    "project": "the project folder (default: the rootdir's project, found as `iotstream up` finds it)",
    "rules_dir": "folder of topic-rule definitions (*.json), instead of the project's",
    "policies_dir": "folder of IoT policies, instead of the project's",
    "lambdas_dir": "folder with functions.json (the Lambda code root), instead of the project's functions",
}
MqttClientFactory = Callable[..., "MqttTestClient"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("localcore", "localcore: a local AWS IoT stack for rule and policy tests")
    for name, help_text in OPTIONS.items():
        flag = "--localcore-" + name.replace("_", "-")
        group.addoption(flag, dest=f"localcore_{name}", default=None, help=help_text)
        parser.addini(f"localcore_{name}", help_text, default=None)
    group.addoption(
        "--localcore-lambda-env",
        dest="localcore_lambda_env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every Lambda function (repeatable)",
    )
    parser.addini("localcore_lambda_env", "KEY=VALUE lines: extra Lambda environment", type="linelist")


def _path(config: pytest.Config, name: str) -> Path | None:
    """The folder given on the command line or in the ini file (relative to the rootdir), else None."""
    value = config.getoption(f"localcore_{name}") or config.getini(f"localcore_{name}")
    if not value:
        return None
    path = Path(str(value))
    path = path if path.is_absolute() else Path(config.rootpath) / path
    if not path.is_dir():
        from localcore.project import ProjectError

        flag = "--localcore-" + name.replace("_", "-")
        raise ProjectError(f"{flag} / localcore_{name}: folder {path} does not exist")
    return path


def _environment(lines: list[str]) -> dict[str, str]:
    from localcore.functions.env_file import EnvFileError, checked_name

    environment = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise EnvFileError(f"localcore lambda environment: {line!r} is not KEY=VALUE")
        environment[checked_name(key.strip(), "localcore lambda environment")] = value.strip()
    return environment


def resolve_project(config: pytest.Config) -> Project:
    """The project the options and the rootdir name (ProjectError: none, or a folder is missing)."""
    from localcore.project import Project, ProjectError, find_project

    root = Path(config.rootpath)
    rules, policies, lambdas = (_path(config, name) for name in ("rules_dir", "policies_dir", "lambdas_dir"))
    project = find_project(_path(config, "project"), root)
    if project is None:
        if rules is None or policies is None:
            raise ProjectError(
                f"no localcore project in {root} or above: add iot_rules/ and iot_policies/ (or [tool.iotstream] "
                "in pyproject.toml), or give --localcore-project DIR"
            )
        project = Project(root, rules, policies, None)
    return dataclasses.replace(
        project,
        rules_dir=rules or project.rules_dir,
        policies_dir=policies or project.policies_dir,
        functions=lambdas / "functions.json" if lambdas else project.functions,
        code_root=lambdas if lambdas else project.code_root,
    )


def project_config(
    project: Project, lambda_environment: Mapping[str, str] | None = None, **overrides: Any
) -> LocalcoreConfig:
    """A test LocalcoreConfig for `project`: free ports, fast async retries, the project's env file plus
    `lambda_environment`; `overrides` are other LocalcoreConfig fields."""
    from localcore.functions import FunctionSettings
    from localcore.functions.env_file import read_env_file
    from localcore.testing import FREE_PORTS

    environment = {
        **(read_env_file(project.env_file) if project.env_file else {}),
        **(lambda_environment or {}),
    }
    functions = FunctionSettings(retry_delays_seconds=(0.05, 0.05))
    return project.config(environment, **{**FREE_PORTS, "functions": functions, **overrides})


@pytest.fixture(scope="session")
def localcore_config(pytestconfig: pytest.Config) -> LocalcoreConfig:
    """The stack's configuration from your project and the `--localcore-*` options; override this fixture to
    change anything. A missing or broken project file ends the session here, once, in one line."""
    from localcore.errors import LocalcoreError

    lines = [*pytestconfig.getini("localcore_lambda_env"), *pytestconfig.getoption("localcore_lambda_env")]
    try:
        project = resolve_project(pytestconfig)
        project.check()
        return project_config(project, _environment(lines))
    except (LocalcoreError, ValueError) as error:
        pytest.exit(f"localcore: {error}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(scope="session")
def localcore(localcore_config: LocalcoreConfig) -> Iterator[RunningLocalcore]:
    """A running localcore for the whole test session (state is shared between tests)."""
    from localcore.errors import LocalcoreError
    from localcore.testing import RunningLocalcore

    running = RunningLocalcore(localcore_config)
    try:
        running.start()
    except (LocalcoreError, ValueError, OSError) as error:
        pytest.exit(f"localcore: cannot start: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def mqtt_client(localcore: RunningLocalcore) -> Iterator[MqttClientFactory]:
    """`mqtt_client("device-1")`: a connected paho client whose MQTT username (the identity) picks the policy."""
    from localcore.broker.testing import MqttTestClient

    clients: list[MqttTestClient] = []

    def connect(identity: str, client_id: str | None = None, protocol: int = 5) -> MqttTestClient:
        client = MqttTestClient(
            localcore.mqtt_port, client_id=client_id or identity, protocol=protocol, username=identity
        )
        clients.append(client)
        return client.connect()

    yield connect
    for client in clients:
        client.disconnect()
