"""Secret URL tokens: feed links and booking links share one kind.

A token is `secrets.token_urlsafe(TOKEN_BYTES)` (256 bits, 43 characters of
the URL-safe base64 alphabet). Only its SHA-256 is stored; the token itself
is shown once, in the answer that makes it. A lookup hashes a well-formed
token (`looks_like_token`) and still compares the stored hash it found in
constant time (`same_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def same_digest(stored: str, digest: str) -> bool:
    return hmac.compare_digest(stored, digest)
