"""SigV4 verification against requests signed by botocore, awscrt and clients/presign.py.

Signing process: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
WebSocket presigned URL: https://docs.aws.amazon.com/iot/latest/developerguide/protocols.html (MQTT over WSS).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from awscrt import auth as crt_auth
from awscrt import websocket as crt_ws
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from clients.presign import AwsCredentials, presign_mqtt_url, sign_http_request
from localcore.sigv4 import SignatureError, SignedRequest, SigV4Verifier, parse_query

HOST = "127.0.0.1:8443"
SIGNED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Cred:
    access_key_id: str
    secret_key: str
    session_token: str | None = None
    expires_at: float | None = None


class Resolver:
    def __init__(self, *creds: Cred) -> None:
        self.creds = {c.access_key_id: c for c in creds}

    def resolve(self, access_key_id: str) -> Cred | None:
        return self.creds.get(access_key_id)


TEMP = Cred("ASIATEMP", "temp-secret/+=", "token+with/odd=chars", expires_at=4102444800.0)
IAM = Cred("AKIALAMBDA", "lambda-secret")


def verifier(at: float | SignedRequest | None = None) -> SigV4Verifier[Cred]:
    """A verifier whose clock reads `at`, or the moment `at` (a request) was signed."""
    if isinstance(at, SignedRequest):
        at = signed_time({k.lower(): v for k, v in at.headers.items()}["x-amz-date"])
    now = SIGNED_AT.timestamp() if at is None else at
    return SigV4Verifier(Resolver(TEMP, IAM), clock=lambda: now)


def signed_time(amz_date: str) -> float:
    return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


def botocore_request(cred: Cred, url: str, body: bytes = b"", service: str = "iotdata") -> SignedRequest:
    """Sign like boto3 does; botocore uses its own clock, so tests read the time back (`signed_time`)."""
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    creds = Credentials(cred.access_key_id, cred.secret_key, cred.session_token)
    auth = SigV4Auth(creds, service, "us-east-1")
    auth.add_auth(request)
    parts = urlsplit(url)
    headers = dict(request.headers.items())
    headers["Host"] = parts.netloc
    return SignedRequest("POST", parts.path, parse_query(parts.query), headers, body)


def url_request(url: str, extra_headers: dict[str, str] | None = None) -> SignedRequest:
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, **(extra_headers or {})}
    return SignedRequest("GET", parts.path, parse_query(parts.query), headers)


def test_botocore_signed_publish_with_encoded_slash_verifies() -> None:
    """iot-data Publish puts the topic in the path as `%2F`; non-S3 SigV4 double-encodes it (`%252F`)."""
    url = f"http://{HOST}/topics/chat%2Fabc%2Fprompt?qos=1&retain=false"
    request = botocore_request(TEMP, url, b'{"a":1}')
    assert "%2F" in request.path
    verified = verifier(request).verify(request, services={"iotdata", "iotdevicegateway"})
    assert verified.credential is TEMP
    assert (verified.region, verified.service, verified.presigned) == ("us-east-1", "iotdata", False)


def test_sign_http_request_helper_is_accepted() -> None:
    """clients/presign.sign_http_request signs with botocore's SigV4Auth, as a Lambda function URL caller."""
    url = f"http://{HOST}/2015-03-31/functions/attach/invocations?x=a%20b"
    cred = AwsCredentials(TEMP.access_key_id, TEMP.secret_key, TEMP.session_token)
    headers = sign_http_request("POST", url, cred, "us-east-1", "lambda", body=b"{}")
    parts = urlsplit(url)
    headers["Host"] = parts.netloc  # added by the HTTP client, as botocore signs it
    request = SignedRequest("POST", parts.path, parse_query(parts.query), headers, b"{}")
    assert verifier(request).verify(request).service == "lambda"


def _with(r: SignedRequest, **changes: object) -> SignedRequest:
    return dataclasses.replace(r, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: _with(r, body=b'{"a":2}'), "signature_mismatch"),
        (lambda r: _with(r, path="/topics/other"), "signature_mismatch"),
        (lambda r: _with(r, query=[("qos", "0")]), "signature_mismatch"),
        (lambda r: _with(r, method="PUT"), "signature_mismatch"),
        (lambda r: _with(r, headers={**r.headers, "X-Amz-Security-Token": "x"}), "token_mismatch"),
        (lambda r: _with(r, headers={**r.headers, "Authorization": "Bearer x"}), "malformed"),
        (lambda r: _with(r, headers={"Host": HOST}), "malformed"),
    ],
)
def test_tampered_requests_fail_with_reason(mutate, reason: str) -> None:
    """Any change to method, path, query, body or token after signing invalidates a SigV4 signature."""
    request = botocore_request(TEMP, f"http://{HOST}/topics/a%2Fb?qos=1", b'{"a":1}')
    with pytest.raises(SignatureError) as err:
        verifier(request).verify(mutate(request))
    assert err.value.reason == reason


def test_forged_secret_unknown_key_and_expired_credentials() -> None:
    """A wrong secret is a mismatch; an unknown key id or expired temporary credentials are refused."""
    forged = botocore_request(
        Cred(TEMP.access_key_id, "guess", TEMP.session_token), f"http://{HOST}/topics/t"
    )
    unknown = botocore_request(Cred("ASIANOBODY", "x"), f"http://{HOST}/topics/t")
    good = botocore_request(TEMP, f"http://{HOST}/topics/t")
    reasons = []
    for request in (forged, unknown):
        with pytest.raises(SignatureError) as err:
            verifier(request).verify(request)
        reasons.append(err.value.reason)
    at = signed_time(good.headers["X-Amz-Date"])
    expired = Cred(TEMP.access_key_id, TEMP.secret_key, TEMP.session_token, expires_at=at - 1)
    with pytest.raises(SignatureError) as err:
        SigV4Verifier(Resolver(expired), clock=lambda: at).verify(good)
    reasons.append(err.value.reason)
    assert reasons == ["signature_mismatch", "unknown_key", "expired"]


def test_clock_skew_beyond_five_minutes_is_refused() -> None:
    """SigV4 requests must be signed within 5 minutes of the server clock (either direction)."""
    request = botocore_request(IAM, f"http://{HOST}/topics/t")
    t = signed_time(request.headers["X-Amz-Date"])
    assert verifier(t + 299).verify(request).credential is IAM
    assert verifier(t - 299).verify(request).credential is IAM
    for at in (t + 301, t - 301):
        with pytest.raises(SignatureError) as err:
            verifier(at).verify(request)
        assert err.value.reason == "skew"


def test_service_must_be_one_of_the_accepted_names() -> None:
    """Data-plane requests are signed for `iotdata` (boto3) or `iotdevicegateway`; others are refused."""
    request = botocore_request(IAM, f"http://{HOST}/topics/t", service="s3")
    with pytest.raises(SignatureError) as err:
        verifier(request).verify(request, services={"iotdata", "iotdevicegateway"})
    assert err.value.reason == "malformed"


def test_presigned_url_from_clients_presign_verifies() -> None:
    """IoT WSS: query SigV4 for `iotdevicegateway`, signed header host, token appended after signing."""
    cred = AwsCredentials(TEMP.access_key_id, TEMP.secret_key, TEMP.session_token)
    signed = presign_mqtt_url(f"ws://{HOST}", cred, "us-east-1", now=SIGNED_AT)
    assert signed.path.startswith("/mqtt?") and signed.path.split("&")[-1].startswith("X-Amz-Security-Token=")
    verified = verifier().verify(url_request(signed.url), services={"iotdevicegateway"})
    assert verified.credential is TEMP and verified.presigned


def test_presigned_url_with_token_inside_the_signature_is_accepted() -> None:
    """Some third-party signers include X-Amz-Security-Token in the canonical query; accept both forms."""
    request = AWSRequest(method="GET", url=f"http://{HOST}/mqtt", headers={"Host": HOST})
    creds = Credentials(TEMP.access_key_id, TEMP.secret_key, TEMP.session_token)
    auth = SigV4QueryAuth(creds, "iotdevicegateway", "us-east-1", 600)
    auth.add_auth(request)
    url = str(request.url)
    assert "X-Amz-Security-Token" in url and "X-Amz-Expires=600" in url
    t = signed_time(dict(url_request(url).query)["X-Amz-Date"])
    assert verifier(t + 590).verify(url_request(url)).presigned
    with pytest.raises(SignatureError) as err:
        verifier(t + 601).verify(url_request(url))
    assert err.value.reason == "expired"


def test_presigned_url_without_expires_is_limited_by_skew() -> None:
    """Without X-Amz-Expires the URL is accepted only within the 5-minute skew window."""
    cred = AwsCredentials(IAM.access_key_id, IAM.secret_key)
    signed = presign_mqtt_url(f"ws://{HOST}", cred, "us-east-1", now=SIGNED_AT)
    with pytest.raises(SignatureError) as err:
        verifier(SIGNED_AT.timestamp() + 301).verify(url_request(signed.url))
    assert err.value.reason == "skew"


def test_presigned_url_tampering_and_missing_token() -> None:
    """The token must match the key's session token; a changed signed parameter breaks the signature."""
    cred = AwsCredentials(TEMP.access_key_id, TEMP.secret_key, TEMP.session_token)
    url = presign_mqtt_url(f"ws://{HOST}", cred, "us-east-1", now=SIGNED_AT).url
    no_token = url.split("&X-Amz-Security-Token=")[0]
    other_region = url.replace("us-east-1", "eu-west-1")
    wrong_host = url_request(url)
    cases = [
        (url_request(no_token), "token_mismatch"),
        (url_request(other_region), "signature_mismatch"),
        (SignedRequest("GET", "/mqtt", wrong_host.query, {"Host": "localhost:8443"}), "signature_mismatch"),
        (url_request(url.replace("X-Amz-Signature=", "X-Amz-Signature=0")), "signature_mismatch"),
        (url_request(url.replace("X-Amz-Date=", "X-Amz-Date=x")), "malformed"),
    ]
    for request, reason in cases:
        with pytest.raises(SignatureError) as err:
            verifier().verify(request)
        assert err.value.reason == reason, request


def test_awscrt_presigned_websocket_handshake_verifies() -> None:
    """awsiotsdk signs the upgrade with awscrt: query params, iotdevicegateway, omit_session_token=True."""
    request = crt_ws.create_handshake_request(host=HOST, path="/mqtt")
    request.headers.add("Sec-WebSocket-Protocol", "mqtt")
    config = crt_auth.AwsSigningConfig(
        algorithm=crt_auth.AwsSigningAlgorithm.V4,
        signature_type=crt_auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
        credentials_provider=crt_auth.AwsCredentialsProvider.new_static(
            TEMP.access_key_id, TEMP.secret_key, TEMP.session_token
        ),
        region="us-east-1",
        service="iotdevicegateway",
        date=SIGNED_AT,
        omit_session_token=True,
    )
    crt_auth.aws_sign_request(request, config).result(timeout=10)
    parts = urlsplit(request.path)
    query = parse_query(parts.query)
    assert dict(query)["X-Amz-Security-Token"] == TEMP.session_token
    signed = SignedRequest("GET", parts.path, query, dict(request.headers))
    verified = verifier().verify(signed, services={"iotdevicegateway"})
    assert verified.credential is TEMP and verified.presigned


def test_default_port_in_host_header_is_tolerated() -> None:
    """A signer may sign the bare host while the client sends `host:443`; both name the same endpoint."""
    cred = AwsCredentials(IAM.access_key_id, IAM.secret_key)
    signed = presign_mqtt_url("wss://example.iot.local", cred, "us-east-1", now=SIGNED_AT)
    parts = urlsplit(signed.url)
    request = SignedRequest("GET", parts.path, parse_query(parts.query), {"host": "example.iot.local:443"})
    assert verifier().verify(request).credential is IAM


@pytest.mark.parametrize(
    "amz_date", ["20240230T120000Z", "20241301T120000Z", "2024011T120000Z", "20240101T120000"]
)
def test_x_amz_date_that_is_no_utc_date_and_time_is_malformed(amz_date: str) -> None:
    """`X-Amz-Date` is ISO 8601 basic format in UTC, `YYYYMMDD'T'HHMMSS'Z'`
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html): a day that
    does not exist or another format is refused as malformed, never read as some other time."""
    request = botocore_request(TEMP, f"http://{HOST}/topics/t", b"{}")
    headers = {**request.headers, "X-Amz-Date": amz_date}
    with pytest.raises(SignatureError) as err:
        verifier(request).verify(_with(request, headers=headers))
    assert err.value.reason == "malformed"
