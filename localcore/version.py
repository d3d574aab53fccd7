"""iotstream's version as installed: what `iotstream --version` and `/_localcore/info` say."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def installed_version() -> str:
    try:
        return version("iotstream")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed: run make setup)"
