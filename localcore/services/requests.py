"""One request to an AWS data service, as the IAM check needs it: the operation and its named parameters.

The protocols botocore speaks put them in different places: JSON services name the operation in
`X-Amz-Target` and send a JSON body; query services (SNS, IAM, and CloudWatch from older SDKs) send
`Action=...&Name=...` as a form; S3 (rest-xml) puts the bucket and key in the path, matched against
S3's model (`localcore.http.operations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from localcore.http.errors import AwsServiceError
from localcore.http.gateway import json_object
from localcore.http.operations import match_rest

WireStyle = Literal["json", "query", "rest-xml"]


@dataclass(frozen=True)
class ServiceRequest:
    """`operation` ("SendMessage", "PutObject"); `params` its members found on the wire (strings mostly)."""

    operation: str
    style: WireStyle
    params: Mapping[str, Any] = field(default_factory=dict)


def read_request(
    service: str,
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> ServiceRequest:
    """The operation and parameters of one wire request; AWS's error when it names none."""
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        return ServiceRequest(target.rpartition(".")[2], "json", json_object(body, target))
    if service == "s3":
        found = match_rest("s3", method, raw_path, query, list(headers))
        if found is None:
            raise AwsServiceError(
                "MethodNotAllowed", "The specified method is not allowed against this resource.", 405
            )
        params = {**found.labels, **{name.lower(): value for name, value in headers.items()}}
        return ServiceRequest(found.operation, "rest-xml", params)
    form = dict(query)
    content_type = headers.get("Content-Type") or headers.get("content-type") or ""
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        form.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    action = form.get("Action")
    if not action:
        raise AwsServiceError("MissingAction", "The request must contain the parameter Action.")
    return ServiceRequest(action, "query", form)
