"""A regular (non-editable) install works on its own: the wheel, built offline from a clean copy of the
checkout, installed into a fresh venv, imports every module from that venv and runs `iotstream up` and
`iotstream chat` from a folder outside the repository.

The fresh venv gets the dependencies, not the project, from `.venv`: a `.pth` file holding the path of
`.venv`'s site-packages. A path line in a `.pth` file adds the folder to `sys.path`; `.pth` files inside an
added folder are not processed (only site directories are, https://docs.python.org/3/library/site.html), so
the editable install's import finder in `.venv` stays off and the source tree is never reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {  # installed name: its folder in the checkout
    "clients": REPO / "clients",
    "localcore": REPO / "localcore",
    "iotstream_lambdas": REPO / "lambdas" / "iotstream_lambdas",
    "iot_policies": REPO / "iot_policies",
    "iot_rules": REPO / "iot_rules",
}
NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "build", "*.egg-info", ".*_cache", ".hypothesis", "__pycache__",
    "cdk.out", "test-artifacts", ".localcore", "tests", "bench", "docs", "examples",
)  # fmt: skip
"""Not needed to build; `build/` especially: setuptools would pack modules left there by an older build."""

WALK_MODULES = """
import importlib, json, pkgutil, sys
found = {}
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    found[name] = package.__file__
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        if info.name.rpartition(".")[2].startswith("_"):  # __main__ runs the CLI; _private is not public
            continue
        found[info.name] = importlib.import_module(info.name).__file__
print(json.dumps(found))
"""


@dataclass(frozen=True)
class Install:
    wheel: Path
    site_packages: Path  # the fresh venv's
    bin: Path
    elsewhere: Path  # a folder outside the repository: the commands run there
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.elsewhere, env={**self.env, **env}, capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv = root / "source", root / "dist", root / "venv"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", str(source), "-w", str(dist)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("iotstream-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site_packages / "iotstream-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    elsewhere = root / "elsewhere"
    (elsewhere / "home").mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(HOME=str(elsewhere / "home"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return Install(wheel, site_packages.resolve(), venv / "bin", elsewhere, env)


def test_the_wheel_holds_the_packages_and_the_files_iotstream_up_reads(install):
    """A wheel holds what the installed code reads besides Python (binary-distribution-format,
    https://packaging.python.org/en/latest/specifications/binary-distribution-format/): the IoT rules and
    policies, the functions manifest, the built browser pages, and `py.typed` in each library so type
    checkers use its hints (PEP 561, https://peps.python.org/pep-0561/). Only the five packages are
    top-level: no generic names (`streaming`, `prompt`), no CDK app, no tests."""
    names = set(zipfile.ZipFile(install.wheel).namelist())
    top_level = {name.split("/")[0] for name in names if not name.startswith("iotstream-")}
    assert top_level == set(PACKAGES)
    for package, folder in PACKAGES.items():
        assert f"{package}/py.typed" in names
        data = {
            f"{package}/{path.relative_to(folder)}"
            for path in folder.rglob("*.json")
            if path.relative_to(folder).parts[0] != "web"  # the pages' npm files, not read at run time
        }
        assert data <= names, data - names
    assert "iotstream_lambdas/functions.json" in names
    assert {"iot_rules/prompt_to_lambda.json", "iot_policies/user.json"} <= names
    pages = REPO / "clients" / "web" / "static"
    if pages.is_dir():  # built by `make setup`; a wheel built before the build has no pages
        built = {
            f"clients/web/{path.relative_to(pages.parent)}" for path in pages.rglob("*") if path.is_file()
        }
        assert built <= names, built - names


def test_every_module_imports_from_the_fresh_venv(install):
    """Every public module of the five packages imports in the fresh venv, from a folder outside the
    repository, and each comes from the venv's site-packages, never the checkout; the wheel misses no module
    of the source tree."""
    walked = install.run(str(install.bin / "python"), "-c", WALK_MODULES, *PACKAGES, timeout=90)
    assert walked.returncode == 0, walked.stderr[-3000:]
    files = {name: Path(file).resolve() for name, file in json.loads(walked.stdout).items()}
    outside = {
        name: str(file) for name, file in files.items() if not file.is_relative_to(install.site_packages)
    }
    assert not outside
    in_source = {
        ".".join((package, *path.relative_to(folder).with_suffix("").parts)).removesuffix(".__init__")
        for package, folder in PACKAGES.items()
        for path in folder.rglob("*.py")
        if not any(part.startswith("_") and part != "__init__.py" for part in path.relative_to(folder).parts)
        and "node_modules" not in path.parts
    }
    assert in_source - set(files) == set()
    assert {"clients.deployment", "iotstream_lambdas.prompt.handler", "localcore.app"} <= set(files)


def test_the_cli_runs_from_the_fresh_venv(install):
    """The `iotstream` console script (an entry point, https://packaging.python.org/en/latest/specifications/entry-points/)
    starts from the installed package: `--version` reads the installed distribution's metadata."""
    version = install.run(str(install.bin / "iotstream"), "--version")
    assert version.returncode == 0 and version.stdout.strip() == "iotstream 0.1.0", version
    helped = install.run(str(install.bin / "iotstream"), "up", "--help")
    assert helped.returncode == 0 and "--mqtt-port" in helped.stdout, helped.stderr


def test_a_new_user_chats_with_the_installed_stack(install):
    """As a new user would: `iotstream up` from outside the repository serves iotstream's own stack from
    the installed package (rules, policies, functions run by the Lambda runtime from site-packages), serves
    the chat page, and `iotstream chat` gets the scripted model's answer (docs/clients.md)."""
    state = install.elsewhere / "state"
    ready_file = state / "ready.json"
    ports = [f"--{name}-port=0" for name in ("mqtt", "mqtts", "ws", "wss", "http")]
    command = [str(install.bin / "iotstream"), "up", "--llm", "scripted", *ports]
    command += ["--state-dir", str(state), "--ready-file", str(ready_file)]
    with subprocess.Popen(
        command,
        cwd=install.elsewhere,
        env=install.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as up:
        try:
            assert up.stdout is not None
            printed = []
            for line in up.stdout:  # until it says it is ready (or ends: then the output says why)
                printed.append(line)
                if line.startswith("localcore ready"):
                    break
            assert ready_file.is_file(), "".join(printed)
            assert f"project {install.site_packages}" in "".join(printed).replace("\n", " ")
            endpoints = json.loads(ready_file.read_text())
            with urllib.request.urlopen(endpoints["http"] + "/", timeout=10) as page:
                assert "<html" in page.read().decode().lower()
            chat = install.run(
                str(install.bin / "iotstream"),
                *("chat", "--user", "newcomer", "-m", "hello"),
                timeout=90,
                IOTSTREAM_READY_FILE=str(ready_file),
            )
            assert chat.returncode == 0, chat.stderr
            assert "MQTT streaming works" in chat.stdout
        finally:
            up.terminate()
            up.wait(timeout=30)
