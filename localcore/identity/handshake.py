"""The broker's WebSocket handshake check: a SigV4 presigned `/mqtt` URL signed with credentials we issued."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from localcore.broker.authorization import HandshakeRejected
from localcore.broker.denials import log_denial
from localcore.identity.credentials import Caller, IssuedCredential
from localcore.sigv4 import CredentialResolver, SignatureError, SignedRequest, SigV4Verifier, parse_query

log = logging.getLogger(__name__)
WEBSOCKET_SERVICES = frozenset({"iotdevicegateway", "iotdata"})


class SigV4HandshakeVerifier:
    """Implements `localcore.broker.authorization.HandshakeVerifier`; returns the `Caller` on success.

    `path` is the upgrade request target. When it still carries the raw query string (`/mqtt?X-Amz-...`)
    that is parsed here (exact: `+` stays a plus); otherwise `query` must hold the decoded parameters.
    A bad or missing signature is an HTTP 403 whose body, as on AWS, does not say why; with `explain`
    (a development switch, `iotstream up --explain-refusals`) the body carries the reason.
    """

    def __init__(
        self,
        resolver: CredentialResolver[IssuedCredential],
        clock: Callable[[], float] = time.time,
        *,
        explain: bool = False,
        region: str | None = None,
    ) -> None:
        self._resolver = resolver
        self._verifier = SigV4Verifier(resolver, clock=clock, region=region)
        self._explain = explain

    def _principal(self, access_key_id: str | None) -> str | None:
        """Whose key signed a refused upgrade (identity id, or the key id when localcore never issued it)."""
        credential = self._resolver.resolve(access_key_id) if access_key_id else None
        return credential.caller.principal_id if credential is not None else access_key_id

    def verify(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Caller:
        raw_path, sep, raw_query = path.partition("?")
        pairs = parse_query(raw_query) if sep else list(query.items())
        request = SignedRequest("GET", raw_path, pairs, headers)
        try:
            verified = self._verifier.verify(request, services=WEBSOCKET_SERVICES)
        except SignatureError as exc:
            log.info("websocket handshake refused: %s (key %s)", exc, exc.access_key_id)
            log_denial(
                "iot:Connect",
                raw_path,
                None,
                self._principal(exc.access_key_id),
                str(exc),
                "handshake-refused",
            )
            body = str(exc) if self._explain else "Forbidden"
            raise HandshakeRejected(403, exc.reason, body) from exc
        return verified.credential.caller
