"""Why a SigV4 signature was refused, as a machine-readable reason."""

from __future__ import annotations

from typing import Literal

from localcore.errors import LocalcoreError

SignatureFailure = Literal[
    "signature_mismatch", "expired", "unknown_key", "skew", "token_mismatch", "malformed", "wrong_region"
]


class SignatureError(LocalcoreError):
    """A request's SigV4 signature did not verify; `reason` says why, `detail` says what exactly."""

    def __init__(self, reason: SignatureFailure, detail: str, access_key_id: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: SignatureFailure = reason
        self.detail = detail
        self.access_key_id = access_key_id
