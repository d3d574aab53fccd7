"""What stands in for CloudWatch Logs when a rule's `cloudwatchLogs` action runs locally.

Each log event goes to the `localcore.rules.cloudwatch_logs` logger and, with `LogGroupFiles`, is appended
as one JSON line `{"logGroupName", "timestamp", "message"}` (the fields of a CloudWatch Logs event,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_InputLogEvent.html) to
`<state dir>/rule-logs/<log group>.log`, the group's `/` written as `_`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path

log = logging.getLogger("localcore.rules.cloudwatch_logs")
_UNSAFE = re.compile(r"[^A-Za-z0-9._#-]")


class LoggingSink:
    """Log events to the Python logger only (WARNING: the project's rules log errors there)."""

    def put(self, log_group: str, message: str) -> None:
        log.warning("%s: %s", log_group, message)


class LogGroupFiles(LoggingSink):
    """Log events to the logger and to one JSON-lines file per log group under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def path(self, log_group: str) -> Path:
        """The file holding a log group's events."""
        return self.directory / f"{_UNSAFE.sub('_', log_group.strip('/')) or '_'}.log"

    def put(self, log_group: str, message: str) -> None:
        super().put(log_group, message)
        line = {"logGroupName": log_group, "timestamp": int(time.time() * 1000), "message": message}
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path(log_group).open("a", encoding="utf-8") as file:
                file.write(json.dumps(line, ensure_ascii=False) + "\n")

    def read(self, log_group: str) -> list[dict[str, object]]:
        """Every event written to `log_group` so far (for tests and `iotstream` users)."""
        path = self.path(log_group)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
