"""The audit trail in the admin: read-only, filtered by patient or by user.

- Audit entries (django-auditlog's): every write to patients, procedures,
  calendar links and users, with who, when and what changed.
  `?patient=<id>` shows one patient's trail (their record, procedures and
  links); `?actor=<id>` one user's writes.
- Patient views: who read whose record, when, through which door.
  `?patient=<id>` and `?viewer=<id>`.
- Bulk reads: lists, searches and exports of many patients' data at once.
  `?patient=<id>` finds every one whose answer held that patient;
  `?reader=<id>` one user's.

Nobody adds, changes or deletes a row here, superusers included: the trail
is append-only.
"""

from __future__ import annotations

import re
from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from clinic.models import Patient, PatientRead, PatientReadQuerySet, PatientView
from followup.admin.read_only import ReadOnlyAdmin


class _IdFilter(admin.SimpleListFilter):
    """`?<parameter>=<id>`; the choice list names only the one chosen.

    A clinic has thousands of patients: the filter is reached from a
    patient's (or user's) admin page, or typed, never picked from a list.
    """

    model: type[Model]

    def _chosen(self) -> int | None:
        # ASCII digits only: `str.isdigit` also holds for "²" or "①", which
        # `int` refuses; and fewer than 19, within the database's integers.
        value = self.value()
        return int(value) if value and re.fullmatch(r"[0-9]{1,18}", value) else None

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The admin applies only a filter that has a choice to show: one is
        # given whenever a value was asked for, even an unknown one.
        value = self.value()
        if value is None:
            return []
        chosen = self._chosen()
        manager = self.model._default_manager
        found = manager.filter(pk=chosen).first() if chosen else None
        return [(value, str(found) if found is not None else "(none)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() is None:
            return queryset
        chosen = self._chosen()
        return queryset.none() if chosen is None else self.narrow(queryset, chosen)

    def narrow(self, queryset: QuerySet[Any], chosen: int) -> QuerySet[Any]:
        raise NotImplementedError


class _ColumnFilter(_IdFilter):
    """Rows whose `column` holds the chosen id."""

    column: str

    def narrow(self, queryset: QuerySet[Any], chosen: int) -> QuerySet[Any]:
        return queryset.filter(**{self.column: chosen})


class LogPatientFilter(_IdFilter):
    title = "patient"
    parameter_name = "patient"
    model = Patient

    def narrow(self, queryset: QuerySet[Any], chosen: int) -> QuerySet[Any]:
        patient_type = ContentType.objects.get_for_model(Patient)
        return queryset.filter(
            Q(content_type=patient_type, object_pk=str(chosen))
            | Q(additional_data__patient_id=chosen)
        )


class ActorFilter(_ColumnFilter):
    title = "by user"
    parameter_name = "actor"
    model = User
    column = "actor_id"


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(ReadOnlyAdmin, LogEntryAdmin):
    list_filter = ["action", LogPatientFilter, ActorFilter, "content_type"]
    search_fields = ["object_repr", "actor__username"]

    def has_delete_permission(
        self, request: HttpRequest, obj: Model | None = None
    ) -> bool:
        return False


class ViewPatientFilter(_ColumnFilter):
    title = "patient"
    parameter_name = "patient"
    model = Patient
    column = "patient_id"


class ViewerFilter(_ColumnFilter):
    title = "viewer"
    parameter_name = "viewer"
    model = User
    column = "viewer_id"


@admin.register(PatientView)
class PatientViewAdmin(ReadOnlyAdmin, admin.ModelAdmin[PatientView]):
    list_display = ["viewed_at", "viewer_username", "record_number", "channel"]
    list_filter = ["channel", ViewPatientFilter, ViewerFilter]
    search_fields = ["record_number", "viewer_username"]
    date_hierarchy = "viewed_at"
    list_select_related = False


class ReadPatientFilter(_IdFilter):
    title = "patient"
    parameter_name = "patient"
    model = Patient

    def narrow(self, queryset: QuerySet[Any], chosen: int) -> QuerySet[Any]:
        assert isinstance(queryset, PatientReadQuerySet)  # noqa: S101
        return queryset.including(chosen)


class ReaderFilter(_ColumnFilter):
    title = "reader"
    parameter_name = "reader"
    model = User
    column = "reader_id"


@admin.register(PatientRead)
class PatientReadAdmin(ReadOnlyAdmin, admin.ModelAdmin[PatientRead]):
    list_display = ["read_at", "reader_username", "kind", "count", "query"]
    list_filter = ["kind", ReadPatientFilter, ReaderFilter]
    search_fields = ["reader_username", "query"]
    date_hierarchy = "read_at"
    list_select_related = False
