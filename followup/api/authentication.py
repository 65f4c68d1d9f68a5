"""API tokens: hashed and expiring (django-rest-knox).

A token is 64 random hex characters shown once (`manage.py
create_api_token`); only its SHA-512 digest is stored, and it stops working
at its expiry or when its user is deactivated. Clients send
`Authorization: Token <key>`.
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

# What `create_api_token` hands out: 64 hex characters. Anything else fails
# before a query (a NUL or a non-UTF-8 byte would not even reach one).
_TOKEN_SHAPE = re.compile(rb"[0-9a-f]{64}")


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Token <key>` check, refusing malformed keys before a query."""

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
