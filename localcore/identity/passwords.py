"""Salted scrypt password hashes and the user pool password policy."""

from __future__ import annotations

import hashlib
import hmac
import os
import string
from dataclasses import dataclass

# A local stand-in's cost: salted and slow enough to be a real hash (~3 ms), cheap enough not to stall the
# one event loop the broker shares (2**14 took ~50 ms per sign-in). A hash encodes its own parameters.
_N, _R, _P = 2**11, 8, 1


def hash_password(password: str) -> str:
    """`scrypt$<n>$<salt hex>$<hash hex>` with a fresh 16-byte salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Constant-time comparison against a stored hash."""
    _, n, salt, expected = stored.split("$")
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=_R, p=_P, dklen=32)
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class PasswordPolicy:
    """Cognito's PasswordPolicyType; the defaults are AWS's defaults for a new pool."""

    minimum_length: int = 8
    require_uppercase: bool = True
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True

    def violation(self, password: str) -> str | None:
        """The message AWS gives for the first rule the password breaks, or None."""
        if len(password) < self.minimum_length:
            return "Password did not conform with policy: Password not long enough"
        if self.require_lowercase and not any(ch.islower() for ch in password):
            return "Password did not conform with policy: Password must have lowercase characters"
        if self.require_uppercase and not any(ch.isupper() for ch in password):
            return "Password did not conform with policy: Password must have uppercase characters"
        if self.require_numbers and not any(ch.isdigit() for ch in password):
            return "Password did not conform with policy: Password must have numeric characters"
        if self.require_symbols and not any(ch in string.punctuation or ch == " " for ch in password):
            return "Password did not conform with policy: Password must have symbol characters"
        return None
