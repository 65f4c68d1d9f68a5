"""API tokens in the admin: who holds one and until when; revoke by deleting.

Only a SHA-512 digest of each token is stored (it is the row's key, and no
use to whoever reads it). knox's own admin would create tokens without an
expiry; this one creates none: they come from `manage.py create_api_token`,
with an expiry, shown once.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken

if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin[AuthToken]):
    list_display = ("user", "created", "expiry")
    list_filter = ("expiry",)
    search_fields = ("user__username",)
    ordering = ("-created",)
    fields = ("user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: AuthToken | None = None
    ) -> bool:
        return False
