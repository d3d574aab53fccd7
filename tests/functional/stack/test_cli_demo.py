"""`iotstream demo` runs the main job end to end and finishes by itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ANSWER = "Settings from the command line reach the prompt function."


def test_demo_streams_an_answer_and_prints_a_summary(tmp_path: Path) -> None:
    """The demo: local stack, a signed-in user and a dashboard user, the browser URL, one prompt, the streamed answer,
    the dashboard's view of the same stream (feed `end` with the same token count), then a one-line summary.
    The functions' environment comes from `--env-file` and `--env` (a Lambda sees only the environment it
    was configured with, configuration-envvars.html): the scripted model says exactly SCRIPTED_TEXT."""
    env_file = tmp_path / "demo.env"
    env_file.write_text("# pace of the scripted model\nSCRIPTED_TOKENS_PER_S=400\n")
    command = [sys.executable, "-m", "clients.cli", "demo", "--llm", "scripted", "--state-dir", str(tmp_path)]
    command += ["--env-file", str(env_file), "--env", f"SCRIPTED_TEXT={ANSWER}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "asks:" in done.stdout
    assert f"] {ANSWER}" in done.stdout  # after the model's name: "[scripted] <answer>"
    assert "chat in your browser: http://127.0.0.1:" in done.stdout
    *_, dashboard, summary = done.stdout.strip().splitlines()
    assert dashboard.startswith("dashboard (dashboard/streams/") and ": end · " in dashboard
    tokens = summary.split(" tokens in ")[0].rsplit(" ", 1)[-1]
    assert f"end · {tokens} tokens" in dashboard
    assert not (tmp_path / "ready.json").exists()
    assert (
        summary.startswith("stop=end_turn")
        and "time to first token" in summary
        and "MQTT messages" in summary
    )
