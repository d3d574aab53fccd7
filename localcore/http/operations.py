"""Which AWS operation an HTTP request is, read from botocore's service models (AWS's own API definitions).

REST services (IoT, iot-data, S3) are matched on method, path and query against each operation's
`requestUri` (`/things/{thingName}`, `/{Bucket}/{Key+}?uploads`), with the operation's required query and
header members as tie-breakers (S3's PutObject, CopyObject and UploadPart share one path); JSON services
name the operation in `X-Amz-Target`, query services in the `Action` form field. Used by the AWS service
front (the IAM action a request needs), by the gateway (an operation localcore does not serve answers that
it is not emulated, naming it) and by the coverage table (`docs/coverage.md`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel

from localcore.http.errors import AwsServiceError

_LABEL = re.compile(r"\{([^}]+)\}")
_IGNORED_QUERY = frozenset({"x-id"})  # botocore strips S3's `?x-id=<Operation>` before sending
NOT_EMULATED_STATUS = 501
NOT_EMULATED_CODE = "NotImplemented"
"""How an operation localcore does not emulate answers (docs/coverage.md says why this status and code)."""


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of one service (`iot`, `s3`, `cognito-idp`, ...), loaded once."""
    model: ServiceModel = _session().get_service_model(name)
    return model


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@dataclass(frozen=True)
class RestMatch:
    """A REST request matched to an operation: its name and the path labels (decoded)."""

    operation: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class _Template:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    literal_query: tuple[tuple[str, str | None], ...]  # (key, value or None for "present")
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    specificity: tuple[int, int, int]


def _compile(operation: OperationModel) -> _Template:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    regex = ""
    position = 0
    for label in _LABEL.finditer(path):
        regex += re.escape(path[position : label.start()])
        name = label.group(1)
        greedy = name.endswith("+")
        group = re.sub(r"\W", "_", name.rstrip("+"))
        regex += f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)"
        position = label.end()
    regex += re.escape(path[position:])
    literal: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, sep, value = part.partition("=")
        if key not in _IGNORED_QUERY:
            literal.append((key, value if sep else None))
    required_query, required_headers = [], []
    shape = operation.input_shape
    if shape is not None:
        for member_name in shape.required_members:
            member = shape.members[member_name]
            where = member.serialization.get("location")
            wire_name = member.serialization.get("name", member_name)
            if where == "querystring":
                required_query.append(wire_name)
            elif where == "header":
                required_headers.append(wire_name.lower())
    literal_chars = len(_LABEL.sub("", path))
    return _Template(
        operation=operation,
        method=operation.http["method"],
        pattern=re.compile(regex),
        literal_query=tuple(literal),
        required_query=tuple(required_query),
        required_headers=tuple(required_headers),
        specificity=(len(literal) + len(required_query) + len(required_headers), literal_chars, -len(path)),
    )


@functools.cache
def _templates(name: str) -> tuple[_Template, ...]:
    model = service_model(name)
    return tuple(_compile(model.operation_model(op)) for op in model.operation_names)


def match_rest(
    name: str,
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Collection[str] = (),
) -> RestMatch | None:
    """The operation of REST service `name` this request is (the most specific that fits), or None.

    `raw_path` is the path as sent (percent-encoded), `query` the decoded query parameters, `headers` the
    lower-case names of the request's headers."""
    header_names = {header.lower() for header in headers}
    best: tuple[tuple[int, int, int], RestMatch] | None = None
    for template in _templates(name):
        if template.method != method.upper():
            continue
        found = template.pattern.fullmatch(raw_path)
        if found is None:
            continue
        if any(
            key not in query or (value is not None and query[key] != value)
            for key, value in template.literal_query
        ):
            continue
        if any(key not in query for key in template.required_query):
            continue
        if any(header not in header_names for header in template.required_headers):
            continue
        labels = {key: unquote(value) for key, value in found.groupdict().items()}
        candidate = RestMatch(template.operation.name, labels)
        if best is None or template.specificity > best[0]:
            best = (template.specificity, candidate)
    return None if best is None else best[1]


def operation_names(name: str) -> tuple[str, ...]:
    """Every operation of the service, as botocore's model lists them."""
    return tuple(service_model(name).operation_names)


def has_operation(name: str, operation: str) -> bool:
    return signing_name(name) is not None and operation in service_model(name).operation_names


@functools.cache
def signing_name(name: str) -> str | None:
    """The SigV4 service name of a botocore service (`iot-data` -> `iotdata`), None for a name botocore
    does not know (a route of localcore's own)."""
    try:
        return str(service_model(name).signing_name)
    except UnknownServiceError:
        return None


def not_emulated(name: str, operation: str) -> AwsServiceError:
    """The answer to an AWS operation localcore does not emulate: HTTP 501 `NotImplemented`, naming it."""
    label = service_model(name).service_id
    return AwsServiceError(
        NOT_EMULATED_CODE,
        f"localcore does not emulate the {label} operation {operation} (docs/coverage.md lists what it does)",
        NOT_EMULATED_STATUS,
    )
