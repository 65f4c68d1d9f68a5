"""Admin screens whose rows hold the keys to sign-in: superusers, or nobody.

- TOTP devices (django-otp): whoever can open a device can read or replace
  its secret and then pass 2FA as its owner, so only a superuser manages
  them, whatever permissions a clinic admin holds. The secret itself is
  never shown (`OTP_ADMIN_HIDE_SENSITIVE_DATA`): a superuser replaces a lost
  device by deleting it, and its owner enrols a new one.
- django-axes' records (attempts, logins, failures) are the login history:
  everybody reads them, nobody, superusers included, adds, changes or
  deletes one. A locked-out person is let in sooner with
  `manage.py axes_reset_username`, run by the operator.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from followup.admin.read_only import ReadOnlyAdmin


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class SuperuserOnlyAdmin:
    """Only a superuser sees, adds, changes or deletes a row here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request)

    def has_view_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return _is_superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return _is_superuser(request)

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return _is_superuser(request)

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return _is_superuser(request)


class ClinicTOTPDeviceAdmin(SuperuserOnlyAdmin, TOTPDeviceAdmin):  # type: ignore[misc]
    pass


class _LoginHistoryAdmin(ReadOnlyAdmin):
    # axes' "clean up expired attempts" deletes rows too.
    actions: Any = []


class ClinicAccessAttemptAdmin(_LoginHistoryAdmin, AccessAttemptAdmin):  # type: ignore[misc]
    pass


class ClinicAccessLogAdmin(_LoginHistoryAdmin, AccessLogAdmin):  # type: ignore[misc]
    pass


class ClinicAccessFailureLogAdmin(_LoginHistoryAdmin, AccessFailureLogAdmin):  # type: ignore[misc]
    pass


_REPLACED: list[tuple[type[Model], type[Any]]] = [
    (TOTPDevice, ClinicTOTPDeviceAdmin),
    (AccessAttempt, ClinicAccessAttemptAdmin),
    (AccessLog, ClinicAccessLogAdmin),
    (AccessFailureLog, ClinicAccessFailureLogAdmin),
]
for model, model_admin in _REPLACED:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
