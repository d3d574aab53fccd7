"""Construct ids from logical names (`attach_policy` -> `AttachPolicy`)."""

from __future__ import annotations

import re


def pascal(name: str) -> str:
    """`iotstream_prompt` -> `IotstreamPrompt`: a stable construct id for a logical name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
