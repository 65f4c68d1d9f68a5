"""Users in the admin: a clinic admin who is not a superuser cannot touch one.

Django's `UserAdmin` trusts the `auth.change_user` permission, which every
clinic admin holds: with it alone a clinic admin could reset a superuser's
password, strip their groups, deactivate or delete them, or tick
`is_superuser` on their own row. Here, unless the signed-in user is a
superuser:

- a superuser's row is read-only (no change, password change or delete);
- `is_superuser` and `user_permissions` are read-only on every row, so
  nobody becomes a superuser or holds a right outside the roles (issue 17:
  with `user_permissions` a clinic admin gave themselves the TOTP devices);
- on their own row, their groups and active flag are read-only too: another
  admin grants or withdraws their roles;
- a group's permissions are read-only: the roles' rights come from the
  migrations, and a superuser changes them;
- a bulk delete that includes a superuser is refused like one without the
  permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html


def _protected(request: HttpRequest, obj: Model | None) -> bool:
    """Whether `obj` is a superuser that the signed-in user may not change."""
    return (
        isinstance(obj, User)
        and obj.is_superuser
        and not getattr(request.user, "is_superuser", False)
    )


class ClinicUserAdmin(UserAdmin):
    @admin.display(description="Audit trail")
    def audit_trail(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="/admin/auditlog/logentry/?actor={}">Changes made</a> · '
            '<a href="/admin/clinic/patientview/?viewer={}">Patients viewed</a>',
            obj.pk,
            obj.pk,
        )

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Audit trail", {"fields": ["audit_trail"]})]

    def has_change_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        # Also guards the password change view, which asks this question.
        if _protected(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        if _protected(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Model | None = None
    ) -> Any:
        readonly = [*super().get_readonly_fields(request, obj), "audit_trail"]
        if not getattr(request.user, "is_superuser", False):
            readonly += ["is_superuser", "user_permissions"]
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["groups", "is_active"]
        return readonly

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        if any(_protected(request, obj) for obj in objs):
            perms_needed = {*perms_needed, "superuser accounts"}
        return deleted, counts, perms_needed, protected


class ClinicGroupAdmin(GroupAdmin):
    def get_readonly_fields(
        self, request: HttpRequest, obj: Group | None = None
    ) -> Any:
        readonly = [*super().get_readonly_fields(request, obj)]
        if not getattr(request.user, "is_superuser", False):
            readonly.append("permissions")
        return readonly


admin.site.unregister(User)
admin.site.register(User, ClinicUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, ClinicGroupAdmin)
