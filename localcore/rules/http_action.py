"""The `http` rule action: POST the SELECT output to a URL, retried as AWS's rules engine retries.

https-rule-action.html: `url` and header values are substitution templates; the content type is
application/json for a JSON payload, application/octet-stream otherwise, unless a `content-type` header
says; `auth.sigv4` signs the request as its role. The engine tries at most three times and retries only on
HTTP 429 and 5xx, never after a response over 16384 bytes or a closed connection.

AWS only posts to a confirmed and enabled topic rule destination (rule-destination.html: it POSTs a
confirmation token to `confirmationUrl`, the owner confirms it). localcore skips that flow and, instead,
posts only to this machine: any `http://` or `https://` URL on 127.0.0.1, ::1 or localhost counts as a
confirmed destination; any other host fails the action (and the errorAction runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from localcore.errors import LocalcoreError
from localcore.rules.actions import ActionFailed, Render, serialise_output
from localcore.rules.service_calls import HttpAnswer, HttpDelivery, ServiceCaller

MAX_TRIES = 3
MAX_RETRIED_RESPONSE = 16384
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FAILED = "HttpAction failed to make a request to the specified endpoint."  # AWS's words, seen in errorActions


@dataclass(frozen=True)
class HttpOutcome:
    delivery: HttpDelivery
    answer: HttpAnswer
    tries: int


def plan_http(params: Mapping[str, Any], output: Any, render: Render) -> HttpDelivery:
    """The POST the action makes: URL and header values rendered, the default content type added."""
    url = render(str(params["url"]))
    confirmation = params.get("confirmationUrl")
    if confirmation and not url.startswith(render(str(confirmation))):
        raise ActionFailed("http", url, f"the url does not begin with the confirmationUrl {confirmation}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise ActionFailed(
            "http",
            url,
            "localcore posts http actions only to this machine (http://127.0.0.1, localhost or ::1)",
        )
    headers = [(str(h["key"]), render(str(h["value"]))) for h in params.get("headers", [])]
    if not any(key.lower() == "content-type" for key, _ in headers):
        binary = isinstance(output, bytes | bytearray)
        headers.append(("content-type", "application/octet-stream" if binary else "application/json"))
    sigv4 = (params.get("auth") or {}).get("sigv4")
    return HttpDelivery(url, tuple(headers), serialise_output(output), dict(sigv4) if sigv4 else None)


async def run_http(
    params: Mapping[str, Any], output: Any, render: Render, sender: ServiceCaller, rule: str
) -> HttpOutcome:
    """POST, retrying as AWS does; ActionFailed when no try got a 2xx answer."""
    delivery = plan_http(params, output, render)
    tries = 0
    while True:
        tries += 1
        try:
            answer = await sender.post(delivery, rule)
        except (LocalcoreError, OSError, TimeoutError) as error:
            reason = str(error) or type(error).__name__
            raise ActionFailed("http", delivery.url, f"{FAILED} {reason} after {tries - 1} retries") from None
        if 200 <= answer.status < 300:
            return HttpOutcome(delivery, answer, tries)
        retry = (answer.status == 429 or answer.status >= 500) and not answer.closed
        if not retry or len(answer.body) > MAX_RETRIED_RESPONSE or tries == MAX_TRIES:
            raise ActionFailed(
                "http",
                delivery.url,
                f"{FAILED} Received HTTP status code {answer.status} after {tries - 1} retries",
            )
