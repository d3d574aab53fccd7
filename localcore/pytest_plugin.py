"""pytest plugin (entry point `localcore`): test YOUR IoT rules and policies against a running localcore.

Fixtures:
- `localcore_config` (session): the `LocalcoreConfig`, built from the options below; override it in your
  `conftest.py` for full control.
- `localcore` (session): a `RunningLocalcore` (broker, iot-data, IoT control plane, rules engine, Lambda) on free
  ports in a background thread; `.client("iot")`, `.client("iot-data")`, `.wait_rules_idle()`, ...
- `mqtt_client` (function): a factory `mqtt_client(identity, client_id=None, protocol=5)` returning a connected
  paho test client (`localcore.broker.testing.MqttTestClient`): local mode, MQTT username = identity, so the
  local-mode policy (`user.json` of your policies folder) decides what it may do. Disconnected after the test.

Options (command line, or the same names with `_` in the `[pytest]` ini section; relative to the rootdir):
`--localcore-rules-dir` (default `iot_rules/`), `--localcore-policies-dir` (default `iot_policies/`, else the
project's shipped policies), `--localcore-lambdas-dir` (a folder with `functions.json`; default `lambdas/` if it
has one, else no functions), `--localcore-lambda-env KEY=VALUE` (repeatable; extra function environment).
See docs/testing-your-rules.md.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from localcore.app import LocalcoreConfig
    from localcore.broker.testing import MqttTestClient
    from localcore.testing import RunningLocalcore

OPTIONS: dict[str, tuple[str, str]] = {
    "rules_dir": ("iot_rules", "folder of topic-rule definitions (*.json)"),
    "policies_dir": ("iot_policies", "folder of IoT policies; user.json is what local-mode MQTT clients get"),
    "lambdas_dir": ("lambdas", "folder with functions.json (the Lambda code root)"),
}
MqttClientFactory = Callable[..., "MqttTestClient"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("localcore", "localcore: a local AWS IoT stack for rule and policy tests")
    for name, (default, help_text) in OPTIONS.items():
        flag = "--localcore-" + name.replace("_", "-")
        group.addoption(
            flag, dest=f"localcore_{name}", default=None, help=f"{help_text} (default {default}/)"
        )
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


def _option(config: pytest.Config, name: str) -> Path | None:
    """The folder given on the command line or in the ini file, else the conventional one if it exists."""
    value = config.getoption(f"localcore_{name}") or config.getini(f"localcore_{name}")
    root = Path(config.rootpath)
    if value:
        path = Path(str(value))
        return path if path.is_absolute() else root / path
    conventional = root / OPTIONS[name][0]
    return conventional if conventional.is_dir() else None


def _environment(lines: list[str]) -> dict[str, str]:
    environment = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise pytest.UsageError(f"localcore lambda environment: {line!r} is not KEY=VALUE")
        environment[key.strip()] = value.strip()
    return environment


def build_config(
    scratch: Path,
    rules_dir: Path | None = None,
    policies_dir: Path | None = None,
    lambdas_dir: Path | None = None,
    lambda_environment: Mapping[str, str] | None = None,
    **overrides: Any,
) -> LocalcoreConfig:
    """A test LocalcoreConfig (free ports) for a project's own rules, policies and functions.

    Missing folders mean: no rules, the project's shipped policies, no Lambda functions. `scratch` holds the
    empty stand-ins; `overrides` go to `localcore.testing.free_port_config`.
    """
    from localcore.functions import FunctionSettings
    from localcore.testing import free_port_config

    if rules_dir is None:
        rules_dir = scratch / "no_rules"
        rules_dir.mkdir(exist_ok=True)
    if lambdas_dir is not None and (lambdas_dir / "functions.json").is_file():
        code_root, manifest = lambdas_dir, lambdas_dir / "functions.json"
    else:
        code_root, manifest = scratch, scratch / "functions.json"
        manifest.write_text("{}")
    functions = FunctionSettings(
        code_root=code_root,
        manifest=manifest,
        environment=dict(lambda_environment or {}),
        retry_delays_seconds=(0.05, 0.05),
    )
    extra: dict[str, Any] = {"rules_dir": rules_dir, "functions": functions}
    if policies_dir is not None:
        extra["policies_dir"] = policies_dir
    return free_port_config(**{**extra, **overrides})


@pytest.fixture(scope="session")
def localcore_config(pytestconfig: pytest.Config) -> Iterator[LocalcoreConfig]:
    """The stack's configuration from the `--localcore-*` options; override this fixture to change anything."""
    environment = _environment(
        [*pytestconfig.getini("localcore_lambda_env"), *pytestconfig.getoption("localcore_lambda_env")]
    )
    with tempfile.TemporaryDirectory(prefix="localcore-plugin-") as scratch:
        yield build_config(
            Path(scratch),
            rules_dir=_option(pytestconfig, "rules_dir"),
            policies_dir=_option(pytestconfig, "policies_dir"),
            lambdas_dir=_option(pytestconfig, "lambdas_dir"),
            lambda_environment=environment,
        )


@pytest.fixture(scope="session")
def localcore(localcore_config: LocalcoreConfig) -> Iterator[RunningLocalcore]:
    """A running localcore for the whole test session (state is shared between tests)."""
    from localcore.testing import RunningLocalcore

    with RunningLocalcore(localcore_config) as running:
        yield running


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
