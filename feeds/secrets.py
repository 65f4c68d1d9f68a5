"""CalDAV credentials at rest: passwords encrypted, URLs over TLS.

- `EncryptedTextField`: the value is plain in Python and a Fernet token in
  the database, encrypted with the newest key of CALDAV_ENCRYPTION_KEYS
  (comma-separated, newest first; separate from SECRET_KEY) and decrypted
  with whichever listed key made it. Rotation: put a new key first, run
  `manage.py rotate_caldav_key`, then drop the old key. A token no listed
  key opens is an error, never returned as is.
- `validate_caldav_url`: `https://`, or `http://` to a loopback host only
  (127.0.0.0/8, ::1, localhost): a password must not cross a network in clear.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models


@functools.lru_cache(maxsize=4)
def _cipher_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CALDAV_ENCRYPTION_KEYS must list Fernet keys (32 url-safe base64 "
            "bytes each, e.g. from `Fernet.generate_key()`)"
        ) from exc


def cipher() -> MultiFernet:
    return _cipher_for(tuple(settings.CALDAV_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return "" if not plain else cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored CalDAV password opens with none of CALDAV_ENCRYPTION_KEYS "
            "(was a key dropped before `manage.py rotate_caldav_key` ran?)"
        ) from exc


def rotate(token: str) -> str:
    """The token re-encrypted with the newest key."""
    return "" if not token else cipher().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Plain text in Python, a Fernet token in the database."""

    def from_db_value(self, value: str | None, *args: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_caldav_url(url: str) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return
    if scheme == "http" and _is_loopback(parts.hostname or ""):
        return
    raise ValidationError(
        "Use an https:// URL: http:// would send the password in clear "
        "(it is allowed only to this machine: localhost, 127.0.0.1, ::1).",
        code="insecure_url",
    )
