from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.js_harness import JsModule


@pytest.fixture(scope="session")
def js_module(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., JsModule]:
    """`js_module("assembler", "wire")`: page modules bundled once per session."""
    out = tmp_path_factory.mktemp("web-js")
    cache: dict[tuple[str, ...], JsModule] = {}

    def load(*names: str) -> JsModule:
        if names not in cache:
            cache[names] = JsModule(names, out)
        return cache[names]

    return load
