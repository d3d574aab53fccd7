"""The sign-in flow users run, identical against localcore and AWS.

    session = sign_in(config, "alice", "Passw0rd!")
    # cognito-idp InitiateAuth(USER_PASSWORD_AUTH) -> cognito-identity GetId -> GetCredentialsForIdentity
    # -> POST {"idToken"} to the attach-policy function URL, SigV4-signed (service `lambda`)
    connection = session.mqtt_connection()  # awsiotsdk / awscrt over WebSockets, SigV4-signed upgrade
    connection.connect().result(10)
    paho_client = session.paho_client()  # paho over WebSockets with a presigned /mqtt URL
    paho_client.connect(session.config.mqtt_host, session.config.mqtt_port)

The identity id is the only name a user has on the broker: the client id is the identity id (or
`{id}-suffix`) and every topic carries it; the IoT policies make anything else fail (docs/security.md).
"""

from __future__ import annotations

import json
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import awscrt.auth
import awscrt.io
import awscrt.mqtt
import boto3
import paho.mqtt.client as paho
from awsiot import mqtt_connection_builder
from botocore import UNSIGNED
from botocore.config import Config
from paho.mqtt.enums import CallbackAPIVersion

from clients.config import ClientConfig
from clients.errors import AttachPolicyError, SignInError
from clients.presign import (
    IOT_WEBSOCKET_SERVICE,
    AwsCredentials,
    PresignedWebSocket,
    presign_mqtt_url,
    sign_http_request,
)

_UNSIGNED = Config(signature_version=UNSIGNED, retries={"max_attempts": 2})


def cognito_idp(config: ClientConfig) -> Any:
    """An unsigned cognito-idp client (SignUp, InitiateAuth, ConfirmSignUp need no AWS credentials)."""
    return boto3.client(
        "cognito-idp", region_name=config.region, endpoint_url=config.endpoint_url, config=_UNSIGNED
    )


def cognito_identity(config: ClientConfig) -> Any:
    """An unsigned cognito-identity client (GetId and GetCredentialsForIdentity are public)."""
    return boto3.client(
        "cognito-identity", region_name=config.region, endpoint_url=config.endpoint_url, config=_UNSIGNED
    )


@dataclass(frozen=True)
class Tokens:
    """The user pool's JWTs from InitiateAuth."""

    id_token: str
    access_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class TemporaryCredentials:
    """Identity-pool credentials (about 1 h on AWS) and when they expire."""

    credentials: AwsCredentials
    expiration: datetime

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) + margin >= self.expiration


@dataclass(frozen=True)
class SignUpResult:
    user_sub: str
    confirmed: bool  # False: confirm with the code Cognito sent (`confirm_sign_up`)


def sign_up(config: ClientConfig, username: str, password: str, email: str) -> SignUpResult:
    """cognito-idp SignUp; the result says whether the user still has to confirm."""
    response = cognito_idp(config).sign_up(
        ClientId=config.user_pool_client_id,
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    return SignUpResult(str(response["UserSub"]), bool(response["UserConfirmed"]))


def confirm_sign_up(config: ClientConfig, username: str, code: str) -> None:
    """cognito-idp ConfirmSignUp with the emailed code."""
    cognito_idp(config).confirm_sign_up(
        ClientId=config.user_pool_client_id, Username=username, ConfirmationCode=code
    )


def authenticate(config: ClientConfig, username: str, password: str) -> Tokens:
    """InitiateAuth(USER_PASSWORD_AUTH); Cognito's errors (NotAuthorized, UserNotConfirmed) propagate."""
    response = cognito_idp(config).initiate_auth(
        ClientId=config.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    result = response.get("AuthenticationResult")
    if not result:
        raise SignInError(username, f"challenge {response.get('ChallengeName')!r} is not supported")
    return Tokens(result["IdToken"], result["AccessToken"], result.get("RefreshToken"))


def refresh_tokens(config: ClientConfig, refresh_token: str) -> Tokens:
    """InitiateAuth(REFRESH_TOKEN_AUTH): new ID and access tokens; NotAuthorized once it expired or was revoked."""
    response = cognito_idp(config).initiate_auth(
        ClientId=config.user_pool_client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    result = response["AuthenticationResult"]
    return Tokens(result["IdToken"], result["AccessToken"], refresh_token)


def identity_id_for(config: ClientConfig, tokens: Tokens) -> str:
    """cognito-identity GetId with the user pool's id token as the login."""
    response = cognito_identity(config).get_id(
        IdentityPoolId=config.identity_pool_id, Logins={config.provider_name: tokens.id_token}
    )
    return str(response["IdentityId"])


def credentials_for(config: ClientConfig, identity_id: str, tokens: Tokens) -> TemporaryCredentials:
    """cognito-identity GetCredentialsForIdentity (the enhanced flow)."""
    response = cognito_identity(config).get_credentials_for_identity(
        IdentityId=identity_id, Logins={config.provider_name: tokens.id_token}
    )
    raw = response["Credentials"]
    expiration = raw["Expiration"]
    if not isinstance(expiration, datetime):
        expiration = datetime.fromtimestamp(float(expiration), UTC)
    credentials = AwsCredentials(raw["AccessKeyId"], raw["SecretKey"], raw.get("SessionToken"))
    return TemporaryCredentials(credentials, expiration)


RETRIED_STATUSES = frozenset({429, 503})
"""Throttled (the function's concurrency, Lambda's `TooManyRequestsException`) or Cognito throttling: retry."""
ATTACH_ATTEMPTS = 4


def call_attach_policy(
    config: ClientConfig,
    credentials: AwsCredentials,
    id_token: str,
    timeout: float = 30.0,
    *,
    backoff_s: float = 0.5,
) -> Any:
    """POST `{"idToken": ...}` to the attach-policy function URL, SigV4-signed (service `lambda`) with the
    identity-pool credentials; returns the JSON reply `{"identityId", "policyName", "attached"}`.

    The function resolves the identity from the ID token (Lambda gives function URLs no Cognito identity,
    docs/security.md); the signature proves the caller holds this pool's credentials. A throttled call
    (429, 503) is signed again and retried with exponential back-off and jitter, as AWS advises for
    throttling (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
    """
    body = json.dumps({"idToken": id_token}).encode()
    for attempt in range(ATTACH_ATTEMPTS):
        headers = sign_http_request(
            "POST",
            config.attach_policy_url,
            credentials,
            config.region,
            "lambda",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        request = urllib.request.Request(config.attach_policy_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code not in RETRIED_STATUSES or attempt == ATTACH_ATTEMPTS - 1:
                raise AttachPolicyError(error.code, error.read().decode(errors="replace")) from None
        time.sleep(backoff_s * 2**attempt * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable: the last attempt returns or raises")


class Session:
    """A signed-in user: identity id, temporary credentials (refreshable), tokens, and MQTT clients."""

    def __init__(
        self,
        config: ClientConfig,
        username: str,
        identity_id: str,
        tokens: Tokens,
        credentials: TemporaryCredentials,
        attached_policy: str | None = None,
    ) -> None:
        self.config = config
        self.username = username
        self.identity_id = identity_id
        self.attached_policy = attached_policy
        self._lock = threading.Lock()
        self._tokens = tokens
        self._credentials = credentials

    @property
    def tokens(self) -> Tokens:
        with self._lock:
            return self._tokens

    @property
    def temporary_credentials(self) -> TemporaryCredentials:
        with self._lock:
            return self._credentials

    @property
    def credentials(self) -> AwsCredentials:
        return self.temporary_credentials.credentials

    def client_id(self, suffix: str | None = None) -> str:
        """The MQTT client id the policies allow: the identity id, or `{id}-{suffix}`."""
        return self.identity_id if not suffix else f"{self.identity_id}-{suffix}"

    def refresh(self) -> TemporaryCredentials:
        """New id token (REFRESH_TOKEN_AUTH when there is a refresh token) and new identity-pool credentials.

        New connections sign with the new credentials; `mqtt_connection()` reads them on every (re)connect.
        """
        tokens = self.tokens
        if tokens.refresh_token:
            tokens = refresh_tokens(self.config, tokens.refresh_token)
        credentials = credentials_for(self.config, self.identity_id, tokens)
        with self._lock:
            self._tokens, self._credentials = tokens, credentials
        return credentials

    def refresh_if_expiring(self, margin: timedelta = timedelta(minutes=5)) -> bool:
        if self.temporary_credentials.expires_within(margin):
            self.refresh()
            return True
        return False

    def attach_policy(self) -> str:
        """Ask the attach-policy function to attach our IoT policy to our identity; returns its name."""
        reply = call_attach_policy(self.config, self.credentials, self.tokens.id_token)
        policy = str(reply.get("policyName")) if isinstance(reply, dict) else None
        self.attached_policy = policy
        return policy or ""

    # --- MQTT over WebSockets -------------------------------------------------------------------------------

    def presigned_url(self, *, now: datetime | None = None, expires: int | None = None) -> PresignedWebSocket:
        """The SigV4 presigned `/mqtt` URL (service `iotdevicegateway`, session token appended after signing)."""
        return presign_mqtt_url(
            self.config.websocket_endpoint, self.credentials, self.config.region, now=now, expires=expires
        )

    def credentials_provider(self) -> Any:
        """An awscrt credentials provider that always returns this session's current credentials."""

        def current() -> awscrt.auth.AwsCredentials:
            c = self.credentials
            return awscrt.auth.AwsCredentials(c.access_key_id, c.secret_key, c.session_token)

        return awscrt.auth.AwsCredentialsProvider.new_delegate(current)

    def mqtt_connection(self, client_id_suffix: str | None = None, **kwargs: Any) -> Any:
        """An `awscrt.mqtt.Connection` over WebSockets whose upgrade is SigV4-signed (as the AWS IoT SDK does).

        `wss://` endpoints use `awsiot.mqtt_connection_builder.websockets_with_default_aws_signing`; localcore's
        plain `ws://` needs a client without TLS, built from the same awscrt pieces and the same signer.
        Extra keyword arguments go to the builder / `awscrt.mqtt.Connection` (callbacks, keep-alive, ...).
        """
        config = self.config
        client_id = self.client_id(client_id_suffix)
        provider = self.credentials_provider()
        if config.tls:
            return mqtt_connection_builder.websockets_with_default_aws_signing(
                region=config.region,
                credentials_provider=provider,
                endpoint=config.mqtt_host,
                port=config.mqtt_port,
                client_id=client_id,
                ca_filepath=config.ca_file,
                clean_session=kwargs.pop("clean_session", True),
                keep_alive_secs=kwargs.pop("keep_alive_secs", 60),
                **kwargs,
            )
        bootstrap = awscrt.io.ClientBootstrap.get_or_create_static_default()
        return awscrt.mqtt.Connection(
            awscrt.mqtt.Client(bootstrap, tls_ctx=None),
            config.mqtt_host,
            config.mqtt_port,
            client_id,
            clean_session=kwargs.pop("clean_session", True),
            keep_alive_secs=kwargs.pop("keep_alive_secs", 60),
            use_websockets=True,
            websocket_handshake_transform=sigv4_handshake_transform(config.region, provider),
            **kwargs,
        )

    def paho_client(
        self,
        client_id_suffix: str | None = None,
        protocol: int = 5,
        presigned: PresignedWebSocket | None = None,
    ) -> paho.Client:
        """A paho client over WebSockets on the presigned URL; call `connect(config.mqtt_host, mqtt_port)`.

        The URL is signed now: connect within the SigV4 window (5 minutes), or pass a fresh `presigned`.
        """
        signed = presigned or self.presigned_url()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id(client_id_suffix),
            protocol=paho.MQTTv5 if protocol == 5 else paho.MQTTv311,
            transport="websockets",
            reconnect_on_failure=False,
        )
        client.ws_set_options(path=signed.path)
        if signed.tls:
            client.tls_set_context(ssl.create_default_context(cafile=self.config.ca_file))
        return client


def sigv4_handshake_transform(region: str, credentials_provider: Any) -> Any:
    """awscrt `websocket_handshake_transform`: SigV4 in the query string, the session token not signed.

    The same signing configuration `awsiot.mqtt_connection_builder.websockets_with_default_aws_signing` uses.
    """

    def transform(transform_args: Any, **kwargs: Any) -> None:
        try:
            signing_config = awscrt.auth.AwsSigningConfig(
                algorithm=awscrt.auth.AwsSigningAlgorithm.V4,
                signature_type=awscrt.auth.AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS,
                credentials_provider=credentials_provider,
                region=region,
                service=IOT_WEBSOCKET_SERVICE,
                omit_session_token=True,  # AWS IoT does not sign X-Amz-Security-Token
            )
            future = awscrt.auth.aws_sign_request(transform_args.http_request, signing_config)
            future.add_done_callback(lambda done: transform_args.set_done(done.exception()))
        except Exception as error:  # noqa: BLE001 (awscrt boundary: the error must reach set_done)
            transform_args.set_done(error)

    return transform


def sign_in(config: ClientConfig, username: str, password: str, *, attach: bool = True) -> Session:
    """InitiateAuth -> GetId -> GetCredentialsForIdentity -> (attach-policy function URL) -> Session."""
    return open_session(config, username, authenticate(config, username, password), attach=attach)


def open_session(config: ClientConfig, username: str, tokens: Tokens, *, attach: bool = True) -> Session:
    """GetId -> GetCredentialsForIdentity -> (attach-policy function URL) -> Session, from user pool tokens."""
    identity_id = identity_id_for(config, tokens)
    credentials = credentials_for(config, identity_id, tokens)
    session = Session(config, username, identity_id, tokens, credentials)
    if attach:
        session.attach_policy()
    return session
