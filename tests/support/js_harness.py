"""Run the browser pages' TypeScript modules in Node, bundled by the project's pinned esbuild, so their logic can
be checked against the Python twins (presign.py, assembler.py) case by case."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
ESBUILD = WEB / "node_modules" / ".bin" / "esbuild"
SETUP_HINT = "run `make setup` (npm --prefix clients/web ci)"

_RUNNER = """
const m = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => { %s })().then(
  (output) => process.stdout.write(JSON.stringify(output)),
  (error) => { console.error(error); process.exit(1); },
);
"""


class JsModule:
    """`clients/web/src/<name>.ts` modules bundled together for Node (CommonJS); `run(body, data)` runs an async
    function body with `m` (their exports) and `input` (data, as JSON) and returns what it returns, as JSON."""

    def __init__(self, names: tuple[str, ...], out_dir: Path) -> None:
        if not ESBUILD.exists():
            pytest.fail(f"the browser pages' dependencies are not installed: {SETUP_HINT}")
        stem = "-".join(names)
        entry = out_dir / f"{stem}.ts"
        entry.write_text("".join(f'export * from "{WEB / "src" / name}";\n' for name in names))
        self.bundle = out_dir / f"{stem}.cjs"
        command = [str(ESBUILD), str(entry), "--bundle", "--platform=node", "--format=cjs"]
        subprocess.run([*command, f"--outfile={self.bundle}", "--log-level=warning"], check=True)

    def run(self, body: str, data: Any) -> Any:
        result = subprocess.run(
            ["node", "-e", _RUNNER % body, str(self.bundle)],
            input=json.dumps(data),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"node failed: {result.stderr}")
        return json.loads(result.stdout)
