"""Agent tokens: random secrets shown once; only a SHA-256 hash is stored in the log.

A token is 32 random bytes (URL-safe base64), so a fast hash is enough: there is
nothing to brute-force. Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "sha256:"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_token(token: str, stored_hash: str) -> bool:
    """True when ``token`` hashes to ``stored_hash`` (False for an empty stored hash)."""
    if not stored_hash or not isinstance(token, str):
        return False
    return hmac.compare_digest(hash_token(token).encode(), stored_hash.encode())
