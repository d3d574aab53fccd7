"""SigV4 signing for clients: the presigned `/mqtt` WebSocket URL, and signed HTTP requests.

The WebSocket URL follows AWS IoT's documented procedure (service `iotdevicegateway`, signed header
`host`, empty-body hash, `X-Amz-Security-Token` appended after signing), so the same code connects
to AWS (`wss://<endpoint>/mqtt`) and to localcore (`ws://127.0.0.1:<port>/mqtt`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

IOT_WEBSOCKET_SERVICE = "iotdevicegateway"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class AwsCredentials:
    """An access key pair and, for temporary credentials, the session token."""

    access_key_id: str
    secret_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class PresignedWebSocket:
    """What a WebSocket MQTT client needs: the full URL, and its pieces for paho's `ws_set_options`."""

    url: str
    host: str
    port: int
    path: str  # path plus query, e.g. "/mqtt?X-Amz-Algorithm=..."
    tls: bool


def _enc(value: str) -> str:
    return quote(value, safe="-_.~")


def presign_mqtt_url(
    endpoint: str,
    credentials: AwsCredentials,
    region: str,
    *,
    now: datetime | None = None,
    expires: int | None = None,
    service: str = IOT_WEBSOCKET_SERVICE,
) -> PresignedWebSocket:
    """Presign `<endpoint>/mqtt`, where endpoint is `wss://host[:port]` or `ws://host:port` (bare host = wss).

    The host is signed exactly as the client will send it in the Host header (default ports omitted).
    """
    if "://" not in endpoint:
        endpoint = "wss://" + endpoint
    parts = urlsplit(endpoint)
    tls = parts.scheme in ("wss", "https")
    port = parts.port or (443 if tls else 80)
    hostname = parts.hostname or ""
    host = hostname if port == (443 if tls else 80) else f"{hostname}:{port}"
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date, date = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    scope = f"{date}/{region}/{service}/aws4_request"
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{credentials.access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-SignedHeaders": "host",
    }
    if expires is not None:
        params["X-Amz-Expires"] = str(expires)
    query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(params.items()))
    request = "\n".join(["GET", "/mqtt", query, f"host:{host}\n", "host", _EMPTY_SHA256])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = ("AWS4" + credentials.secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    query += "&X-Amz-Signature=" + hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if credentials.session_token:
        query += "&X-Amz-Security-Token=" + _enc(credentials.session_token)
    path = "/mqtt?" + query
    scheme = "wss" if tls else "ws"
    return PresignedWebSocket(url=f"{scheme}://{host}{path}", host=hostname, port=port, path=path, tls=tls)


def sign_http_request(
    method: str,
    url: str,
    credentials: AwsCredentials,
    region: str,
    service: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Sign an arbitrary HTTP request with botocore's SigV4Auth; returns the headers to send."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(credentials.access_key_id, credentials.secret_key, credentials.session_token)
    SigV4Auth(creds, service, region).add_auth(request)
    return {k: v for k, v in request.headers.items()}
