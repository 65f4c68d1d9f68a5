"""CalDAV credentials at rest: passwords encrypted, URLs over TLS.

- `EncryptedTextField`: the value is plain in Python and a Fernet token in
  the database, encrypted with the newest key of CALDAV_ENCRYPTION_KEYS
  (comma-separated, newest first; separate from SECRET_KEY) and decrypted
  with whichever listed key made it. Rotation: put a new key first, run
  `manage.py rotate_caldav_key`, then drop the old key. A token no listed
  key opens is an error, never returned as is.
- `validate_caldav_url`: `https://`, or `http://` to a loopback host only
  (127.0.0.0/8, ::1, localhost): a password must not cross a network in clear.
  The host is the one the CalDAV client connects to, read by the parser it
  sends with (niquests' urllib3), and must be the one Python's parser reads
  too: `http://evil.example\\@127.0.0.1/` is 127.0.0.1 to `urlsplit` but
  evil.example on the wire. So backslashes, user info and control characters
  are refused outright.
- `same_server`: whether two URLs reach one server (scheme, host, port); a
  calendar moved to another server forgets its password (SurgeonCalendar).
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

# The very parser niquests (caldav's HTTP library) sends with; niquests makes
# this alias at run time, which mypy cannot follow.
from niquests.packages.urllib3.exceptions import (  # type: ignore[import-not-found]
    LocationParseError,
)
from niquests.packages.urllib3.util import parse_url  # type: ignore[import-not-found]


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


def _refusal(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _wire_host(url: str) -> tuple[str, str]:
    """(scheme, host) as the CalDAV client's HTTP library will connect."""
    if "\\" in url:
        raise _refusal("A CalDAV URL may not hold a backslash.", "backslash")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise _refusal(
            "A CalDAV URL may not hold spaces or control characters.",
            "control_character",
        )
    try:
        wire = parse_url(url)
    except LocationParseError:
        raise _refusal(
            "This is not a URL the CalDAV client can use.", "invalid"
        ) from None
    parts = urlsplit(url)
    if wire.auth or "@" in parts.netloc:
        raise _refusal(
            "Put the user name and password in their own fields, not in the URL.",
            "userinfo",
        )
    host = (wire.host or "").strip("[]").lower()
    if host != (parts.hostname or "").lower():
        raise _refusal("This URL names two different hosts.", "ambiguous_host")
    return (wire.scheme or "").lower(), host


def validate_caldav_url(url: str) -> None:
    scheme, host = _wire_host(url)
    if scheme == "https":
        return
    if scheme == "http" and _is_loopback(host):
        return
    raise ValidationError(
        "Use an https:// URL: http:// would send the password in clear "
        "(it is allowed only to this machine: localhost, 127.0.0.1, ::1).",
        code="insecure_url",
    )


def same_server(first: str, second: str) -> bool:
    """Whether both URLs reach one server: scheme, host and port alike."""

    def server(url: str) -> tuple[str, str, int | None]:
        try:
            wire = parse_url(url)
        except LocationParseError:
            return ("", url, None)
        scheme = (wire.scheme or "").lower()
        default = {"https": 443, "http": 80}.get(scheme)
        return (scheme, (wire.host or "").lower(), wire.port or default)

    return server(first) == server(second)
