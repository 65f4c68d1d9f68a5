"""Users in the admin: a clinic admin who is not a superuser cannot touch one.

Django's `UserAdmin` trusts the `auth.change_user` permission, which every
clinic admin holds: with it alone a clinic admin could reset a superuser's
password, strip their groups, deactivate or delete them, or tick
`is_superuser` on their own row. Here, unless the signed-in user is a
superuser:

- a superuser's row is read-only (no change, password change or delete);
- `is_superuser` and `user_permissions` are read-only on every row, so
  nobody becomes a superuser or holds a right outside the roles (with
  `user_permissions` a clinic admin gave themselves the TOTP devices);
- on their own row, their groups and active flag are read-only too: another
  admin grants or withdraws their roles;
- the permissions of a group they belong to are read-only (their own
  rights, by another door); they still grant other groups a right, as the
  README says (the booking override to `front_desk`);
- a bulk delete that includes a superuser is refused like one without the
  permission;
- a user with history (anything in the clinic's records that points at
  them: visit events, contact attempts, links issued, jobs, audit entries,
  a surgeon record...) is not deleted, alone or in bulk: they are told to
  deactivate the account. Deleting would blank the author of that
  history. A superuser still may.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as delete_selected_users
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Model, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils.html import format_html

# What points at a user without being their history: memberships and
# their own credentials, which go with the account.
_NOT_HISTORY = {
    "auth.User_groups",
    "auth.User_user_permissions",
    "knox.AuthToken",
    "otp_totp.TOTPDevice",
}


def has_history(user: User) -> bool:
    """Whether any record of the clinic points at `user` (one query a kind,
    asked only when someone tries to delete them)."""
    for relation in User._meta.get_fields(include_hidden=True):
        if relation.concrete or not relation.auto_created:
            continue
        model = relation.related_model
        if not (isinstance(model, type) and issubclass(model, Model)):
            continue
        if model._meta.label in _NOT_HISTORY:
            continue
        field_name = relation.field.name  # type: ignore[union-attr]
        if model._default_manager.filter(**{field_name: user}).exists():
            return True
    return False


def _refusal(user: User) -> str:
    return (
        f"{user.get_username()} has a history in the clinic records: deactivate "
        "the account instead (untick Active). Only a superuser may delete it."
    )


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


def _protected(request: HttpRequest, obj: Model | None) -> bool:
    """Whether `obj` is a superuser that the signed-in user may not change."""
    return (
        isinstance(obj, User)
        and obj.is_superuser
        and not getattr(request.user, "is_superuser", False)
    )


class ClinicUserAdmin(UserAdmin):
    actions = ["delete_selected"]

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
        return not _protected(request, obj) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return not _protected(request, obj) and super().has_delete_permission(
            request, obj
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Model | None = None
    ) -> Any:
        readonly = [*super().get_readonly_fields(request, obj), "audit_trail"]
        if not getattr(request.user, "is_superuser", False):
            readonly += ["is_superuser", "user_permissions"]
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["groups", "is_active"]
        return readonly

    def _keeps_history(self, request: HttpRequest, user: User | None) -> bool:
        """Refuse (with the reason) deleting a user with history."""
        if user is None or user.is_superuser or _is_superuser(request):
            return False  # a superuser row is refused by the permission
        if not has_history(user):
            return False
        self.message_user(request, _refusal(user), messages.ERROR)
        return True

    def delete_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        user = self.get_object(request, unquote(object_id))
        if user is not None and self._keeps_history(request, user):
            return HttpResponseRedirect(
                reverse("admin:auth_user_change", args=[user.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(
        permissions=["delete"], description="Delete selected users (no history)"
    )
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> HttpResponseBase | None:
        kept = [user for user in queryset if self._keeps_history(request, user)]
        if kept:
            return None
        return delete_selected_users(self, request, queryset)

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
        if _is_superuser(request):
            return readonly
        signed_in = request.user.pk or 0
        if obj is not None and obj.user_set.filter(pk=signed_in).exists():
            readonly.append("permissions")
        return readonly


admin.site.unregister(User)
admin.site.register(User, ClinicUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, ClinicGroupAdmin)
