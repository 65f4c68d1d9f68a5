"""Secret URL tokens: feed links and booking links share one kind.

A token is `secrets.token_urlsafe(TOKEN_BYTES)` (256 bits, 43 characters of
the URL-safe base64 alphabet). Only its SHA-256 is stored; the token itself
is shown once, in the answer that makes it. A lookup hashes a well-formed
token (`looks_like_token`) and still compares the stored hash it found in
constant time (`same_digest`).

A derived token (`new_derived_token`, `derive_token`) is the same shape,
43 characters, but the server can make it again: it is the HMAC-SHA256 of a
random stored nonce under a key drawn from SECRET_KEY (Django's
`salted_hmac`, one `key_salt` per use). The nonce alone opens nothing, the
token is still never stored, and a new SECRET_KEY makes every derived token
underivable (the stored hash no longer matches), never a different secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

TOKEN_BYTES = 32
NONCE_BYTES = 16
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


def derive_token(nonce: str, *, key_salt: str) -> str:
    """The token `nonce` stands for: base64url, unpadded, of the HMAC-SHA256
    of the nonce under SECRET_KEY and `key_salt` (32 bytes, 43 characters)."""
    digest = salted_hmac(key_salt, nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_derived_token(*, key_salt: str) -> tuple[str, str, str]:
    """A fresh nonce (to store), its token (to show or send) and the hash to
    store of the token."""
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    token = derive_token(nonce, key_salt=key_salt)
    return nonce, token, hash_token(token)
