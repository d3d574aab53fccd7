"""Your IoT project as localcore loads it: topic rules, IoT policies, Lambda functions and their environment.

A project is a folder. Its layout is the convention below, or what the `[tool.iotstream]` table of its
`pyproject.toml` says (paths relative to the folder):

    [tool.iotstream]
    rules = "iot_rules"             # topic-rule definitions, one *.json per rule (required folder)
    policies = "iot_policies"       # IoT policies, one *.json per policy, named after the file (required folder)
    functions = "functions.json"    # the functions manifest (optional)
    code_root = ""                  # the folder handler modules are found in (default: the manifest's folder)
    env_file = "functions.env"      # KEY=VALUE lines for every function's environment (optional)
    policy_prefix = ""              # put before every policy's file name ("iotstream-" for iotstream itself)
    local_mode_policy = "user"      # the policy (file name) plain-MQTT local-mode connections get

`iotstream up`, `iotstream rules ...` and the pytest plugin find the project the same way (`find_project`):
the folder given (`--project DIR`), else the nearest folder, from the current one (pytest: its rootdir)
upwards, that has a `pyproject.toml` with `[tool.iotstream]` or an `iot_rules/` folder. `check()` reads every
file once and fails in one line naming the file, before anything starts.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iot_policies.document import parse_policy
from iot_policies.errors import PolicyDocumentError
from iot_policies.library import policy_dir
from iot_rules.definitions import RuleDefinition, RuleDefinitionError, parse_rule, read_rule_file, rules_dir
from localcore.app import LocalcoreConfig
from localcore.errors import LocalcoreError
from localcore.functions import FunctionSettings, load_manifest
from localcore.functions.settings import FUNCTIONS_MANIFEST, LAMBDAS_CODE_ROOT
from localcore.iot.exceptions import IotError, SqlParseException
from localcore.iot.topic_rules import RuleStore

TABLE = "tool.iotstream"
SETTINGS = {
    "rules": "iot_rules",
    "policies": "iot_policies",
    "functions": "functions.json",
    "code_root": None,
    "env_file": None,
    "policy_prefix": "",
    "local_mode_policy": "user",
}
"""Every key of `[tool.iotstream]` and its default."""


class ProjectError(LocalcoreError, ValueError):
    """The project cannot be loaded; the message names the file or folder and what to do."""


@dataclass(frozen=True)
class Project:
    """Where a project's parts are; `check()` reads them."""

    root: Path
    rules_dir: Path
    policies_dir: Path
    functions: Path | None  # the manifest
    env_file: Path | None = None
    code_root: Path | None = None  # where handler modules are found (None: the manifest's folder)
    policy_prefix: str = ""
    local_mode_policy: str = "user"
    settings_file: Path | None = None  # the pyproject.toml whose [tool.iotstream] table was read

    def check(self) -> ProjectContents:
        """Read and check every rule, policy and function; ProjectError names the first bad file."""
        return ProjectContents(
            rules=_check_rules(self.rules_dir),
            policies=_check_policies(self.policies_dir, self.policy_prefix),
            functions=[]
            if self.functions is None
            else list(load_manifest(self.functions, self.function_code_root)),
        )

    @property
    def function_code_root(self) -> Path:
        """The folder the manifest's handler modules are found in (the Lambda asset's root)."""
        if self.code_root is not None:
            return self.code_root
        return self.functions.parent if self.functions else self.root

    def config(self, environment: dict[str, str] | None = None, **overrides: Any) -> LocalcoreConfig:
        """A LocalcoreConfig serving this project (`overrides`: any other LocalcoreConfig field; `functions`
        given there is replaced by this project's, keeping its other settings)."""
        functions: FunctionSettings = overrides.pop("functions", FunctionSettings())
        functions = dataclasses.replace(
            functions,
            code_root=self.function_code_root,
            manifest=self.functions,
            environment={**functions.environment, **(environment or {})},
        )
        return LocalcoreConfig(
            rules_dir=self.rules_dir,
            policies_dir=self.policies_dir,
            policy_prefix=self.policy_prefix,
            local_mode_policy=self.local_mode_policy,
            functions=functions,
            project_dir=self.root,
            **overrides,
        )


@dataclass(frozen=True)
class ProjectContents:
    """What a project defines, by name (for `iotstream up`'s summary and /_localcore/info)."""

    rules: list[str]
    policies: list[str]
    functions: list[str]


def builtin_project() -> Project:
    """iotstream's own stack (the chat): its rules, policies and functions as installed."""
    return Project(
        root=LAMBDAS_CODE_ROOT or rules_dir().parent,
        rules_dir=rules_dir(),
        policies_dir=policy_dir(),
        functions=FUNCTIONS_MANIFEST,
        code_root=LAMBDAS_CODE_ROOT,
        policy_prefix="iotstream-",
    )


def find_project(explicit: Path | None = None, start: Path | None = None) -> Project | None:
    """The project in `explicit` (ProjectError if it is not one), else the nearest one from `start`
    (default: the current folder) upwards, else None."""
    if explicit is not None:
        if not explicit.is_dir():
            raise ProjectError(f"project folder {explicit} does not exist")
        return load_project(explicit)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _settings_table(folder / "pyproject.toml") is not None or (folder / "iot_rules").is_dir():
            return load_project(folder)
    return None


def load_project(root: Path) -> Project:
    """The project in `root`: `[tool.iotstream]` of its pyproject.toml over the conventions. The rules and
    policies folders must exist, and so must a functions manifest or env file the table names."""
    pyproject = root / "pyproject.toml"
    table = _settings_table(pyproject)
    settings = {**SETTINGS, **(table or {})}
    where = f"[tool.iotstream] of {pyproject}" if table is not None else None

    def folder(key: str) -> Path:
        path = root / str(settings[key])
        if not path.is_dir():
            how = (
                f"fix `{key}` in {where}"
                if where
                else f'or set {key} = "..." in [tool.iotstream] of {pyproject}'
            )
            raise ProjectError(f"project {root}: no {key} folder {path}: create it ({how})")
        return path

    rules, policies = folder("rules"), folder("policies")
    manifest = root / str(settings["functions"])
    if not manifest.is_file() and table is not None and "functions" in table:
        raise ProjectError(
            f"project {root}: the functions manifest {manifest} named in {where} does not exist"
        )
    functions = manifest.resolve() if manifest.is_file() else None
    code_root = None if settings["code_root"] is None else root / str(settings["code_root"])
    if code_root is not None and not code_root.is_dir():
        raise ProjectError(
            f"project {root}: the code_root folder {code_root} named in {where} does not exist"
        )
    env_file = None if settings["env_file"] is None else root / str(settings["env_file"])
    if env_file is not None and not env_file.is_file():
        raise ProjectError(f"project {root}: the env file {env_file} named in {where} does not exist")
    return Project(
        root=root.resolve(),
        rules_dir=rules.resolve(),
        policies_dir=policies.resolve(),
        functions=functions,
        env_file=env_file,
        code_root=None if code_root is None else code_root.resolve(),
        policy_prefix=str(settings["policy_prefix"]),
        local_mode_policy=str(settings["local_mode_policy"]),
        settings_file=pyproject if table is not None else None,
    )


def _settings_table(pyproject: Path) -> dict[str, Any] | None:
    """`[tool.iotstream]` of a pyproject.toml (None: no file or no table); unknown keys are refused."""
    if not pyproject.is_file():
        return None
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProjectError(f"{pyproject}: not valid TOML ({error})") from None
    table = document.get("tool", {}).get("iotstream")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ProjectError(f"{pyproject}: [{TABLE}] must be a table")
    unknown = sorted(set(table) - set(SETTINGS))
    if unknown:
        raise ProjectError(
            f"{pyproject}: [{TABLE}] has no key {unknown[0]!r}; its keys: {', '.join(SETTINGS)}"
        )
    for key, value in table.items():
        if not isinstance(value, str):
            raise ProjectError(f"{pyproject}: [{TABLE}] {key} must be a string")
    return table


def _check_rules(folder: Path) -> list[str]:
    """Each rule as CreateTopicRule checks it; rule names are unique."""
    names: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):
        definition = check_rule_file(path)
        if definition.name in names:
            raise ProjectError(
                f"{path}: ruleName {definition.name!r} is also used by {names[definition.name]}"
            )
        names[definition.name] = path
    return sorted(names)


def check_rule_file(path: Path) -> RuleDefinition:
    """One rule file as CreateTopicRule checks it (fields, actions, SQL, substitution templates);
    ProjectError naming the file."""
    try:
        definition = parse_rule(read_rule_file(path), str(path))
        RuleStore().create(definition.name, definition.to_topic_rule_payload(_placeholder_arn))
    except RuleDefinitionError as error:
        raise ProjectError(str(error)) from None
    except SqlParseException as error:
        raise ProjectError(f"{path}: sql: {error.code}: {error.message}") from None
    except IotError as error:
        raise ProjectError(f"{path}: {error.code}: {error.message}") from None
    return definition


def _placeholder_arn(function: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{function}"


def _check_policies(folder: Path, prefix: str) -> list[str]:
    """Each IoT policy parses with the policy grammar localcore enforces; role-*.json (IAM role policies of
    the identity pool) must be JSON objects."""
    names = []
    for path in sorted(folder.glob("*.json")):
        try:
            text = path.read_text(encoding="utf-8")
            if path.stem.startswith("role-"):
                if not isinstance(json.loads(text), dict):
                    raise ValueError("an IAM policy document is a JSON object")
                continue
            parse_policy(text, path.stem)
        except (OSError, UnicodeDecodeError, ValueError, PolicyDocumentError) as error:
            raise ProjectError(f"{path}: {error}") from None
        names.append(prefix + path.stem)
    return names
