"""One control plane (gateway + policy store + IAM) per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.control_plane_stack import running_control_plane


@pytest.fixture(scope="module")
def control_plane() -> Iterator[dict[str, Any]]:
    yield from running_control_plane()
