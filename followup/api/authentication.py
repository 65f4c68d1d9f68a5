"""API tokens: hashed and expiring (django-rest-knox), with failed checks
throttled per client address.

A token is 64 random hex characters shown once (`manage.py
create_api_token`); only its SHA-512 digest is stored, and it stops working
at its expiry or when its user is deactivated. Clients send
`Authorization: Token <key>`.

Every failed token check (unknown, expired, malformed, an inactive user)
counts against the client address's `token_failure` rate (REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES). Past it, every token from that address is refused
with 429 and `Retry-After` *before* being checked, so a guesser learns
nothing from further tries. A good token costs one cache read more and never
counts.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.settings import knox_settings
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from followup.api.throttling import CountedThrottle


class FailedTokenThrottle(CountedThrottle):
    """Failed token checks per client address (DRF's address rules:
    REMOTE_ADDR, or X-Forwarded-For through NUM_PROXIES trusted proxies)."""

    scope = "token_failure"

    def get_cache_key(self, request: Any, view: Any = None) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }

    def refusal(self, request: Request) -> exceptions.Throttled | None:
        """The 429 to answer when the address has failed too often."""
        if self.has_room(request):
            return None
        return exceptions.Throttled(
            wait=self.wait(),
            detail="Too many failed token checks from this address; try later.",
        )

    def record_failure(self, request: Request) -> None:
        self.record(request)


# What `create_api_token` hands out: 64 hex characters. Anything else fails
# before a query (a NUL or a non-UTF-8 byte would not even reach one).
_TOKEN_SHAPE = re.compile(rb"[0-9a-f]{64}")


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Token <key>` check, behind the failed-check throttle."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        words = get_authorization_header(request).split()
        if (
            not words
            or words[0].lower() != self.authenticate_header(request).encode().lower()
        ):
            return None  # no token offered: another scheme's turn
        throttle = FailedTokenThrottle()
        refusal = throttle.refusal(request)
        if refusal is not None:
            raise refusal
        try:
            return super().authenticate(request)  # type: ignore[no-any-return]
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, token: bytes) -> tuple[User, Any]:
        if not _TOKEN_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)  # type: ignore[no-any-return]


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's `Authorization: Token <key>` (drf-spectacular's knox
    extension matches knox's class only, not this one)."""

    target_class = "followup.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=knox_settings.AUTH_HEADER_PREFIX
        )
