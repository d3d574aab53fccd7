"""RS256 JSON Web Tokens for a user pool: signing, the JWKS document, and verification."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from localcore.errors import LocalcoreError

TokenUse = Literal["id", "access"]


class TokenInvalid(LocalcoreError):
    """A token that does not verify; `expired` distinguishes the common case."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class TokenSigner:
    """One RSA key pair per user pool (AWS rotates between two; one is enough locally)."""

    def __init__(self, issuer: str, clock: Callable[[], float] = time.time, key_size: int = 2048) -> None:
        self.issuer = issuer
        self._clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self.kid = str(uuid.uuid4())

    def export_key(self) -> tuple[str, str]:
        """(kid, the private key as PEM): what a restart needs to keep verifying the tokens it issued."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return self.kid, pem.decode()

    def import_key(self, kid: str, pem: str) -> None:
        """Sign and verify with a key `export_key` gave (persistence across restarts)."""
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the signing key is not an RSA private key")
        self._key, self.kid = key, kid

    def jwks(self) -> dict[str, Any]:
        """The `/.well-known/jwks.json` document (RSA, RS256, use=sig)."""
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign claims with the pool key; the header carries `kid` so verifiers can find it in the JWKS."""
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str, token_use: TokenUse, audience: set[str] | None = None) -> dict[str, Any]:
        """Check signature, issuer, expiry, token_use and (id tokens) audience; return the claims."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.kid:
                raise TokenInvalid("unknown signing key")
            claims = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                issuer=self.issuer,
                options={
                    "verify_aud": False,
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["exp", "iat", "iss"],
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"invalid token: {exc}") from exc
        if claims["exp"] <= self._clock():
            raise TokenInvalid("token expired", expired=True)
        if claims.get("token_use") != token_use:
            raise TokenInvalid(f"not an {token_use} token")
        if audience is not None:
            aud = claims.get("aud") if token_use == "id" else claims.get("client_id")
            if aud not in audience:
                raise TokenInvalid("token audience is not an accepted client")
        return claims
