"""`iotstream demo` runs the main job end to end and finishes by itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_demo_streams_an_answer_and_prints_a_summary(tmp_path: Path) -> None:
    """The demo: local stack, a local-mode user, one prompt, the streamed answer, then a one-line summary."""
    command = [sys.executable, "-m", "clients.cli", "demo", "--llm", "scripted", "--state-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "asks:" in done.stdout
    summary = done.stdout.strip().splitlines()[-1]
    assert (
        summary.startswith("stop=end_turn")
        and "time to first token" in summary
        and "MQTT messages" in summary
    )
