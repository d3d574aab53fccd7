"""docs/coverage.md stays true to what the gateway serves, and an operation localcore does not emulate
says so (HTTP 501 `NotImplemented`, the code AWS uses with 501:
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) instead of a 404 that reads as a
missing resource."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import Shape, StructureShape

from localcore.coverage import SERVICES, coverage, markdown
from localcore.http.operations import service_model
from localcore.testing import RunningLocalcore

DOC = Path(__file__).resolve().parents[3] / "docs" / "coverage.md"


def test_the_coverage_table_matches_what_the_gateway_serves(stack: RunningLocalcore) -> None:
    """Regenerate with `python -m localcore.coverage > docs/coverage.md` when this fails."""
    assert DOC.read_text(encoding="utf-8") == markdown(stack.core.gateway)


def _sample(shape: Shape) -> Any:
    """A value botocore accepts for a member (the smallest the model allows)."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return {name: _sample(shape.members[name]) for name in shape.required_members}
    if kind == "string":
        return meta["enum"][0] if meta.get("enum") else "x" * max(1, meta.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, meta.get("min", 1))
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "list":
        return [_sample(shape.member)] * meta.get("min", 0)  # type: ignore[attr-defined]
    if kind == "map":
        return {}
    if kind == "blob":
        return b"x"
    return datetime.now(UTC)


@pytest.mark.parametrize("service", SERVICES)
def test_the_first_operation_not_emulated_answers_not_implemented(
    stack: RunningLocalcore, service: str
) -> None:
    """Each API's first operation the table lists as not emulated (by boto3, as a user's code calls it)."""
    (table,) = [table for table in coverage(stack.core.gateway) if table.service == service]
    model = service_model(service)
    operation = next(
        op
        for op in table.operations
        if op not in table.emulated and "hostPrefix" not in (model.operation_model(op).endpoint or {})
    )
    input_shape = model.operation_model(operation).input_shape
    params = _sample(input_shape) if input_shape is not None else {}
    with pytest.raises(ClientError) as refused:
        getattr(stack.client(service), xform_name(operation))(**params)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("NotImplemented", 501)
    assert f"operation {operation} " in error["Error"]["Message"]
