"""Admin for patients, surgeons and procedures.

A procedure's date, kind and status change only through the services (they
re-plan the visits), so the admin shows them read-only once saved and offers
actions that call the services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clinic.models import Patient, Procedure, Surgeon
from followup import services
from followup.exceptions import DomainError
from followup.models import Visit


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ["record_number", "family_name", "given_name", "birth_date"]
    search_fields = ["record_number", "family_name", "given_name"]


@admin.register(Surgeon)
class SurgeonAdmin(admin.ModelAdmin[Surgeon]):
    list_display = ["__str__", "user", "active"]
    list_filter = ["active"]
    search_fields = ["family_name", "given_name", "user__username"]
    autocomplete_fields = ["user"]


VISIT_COLUMNS = (
    "rule",
    "occurrence",
    "status",
    "due_date",
    "window_start",
    "window_end",
    "start",
    "surgeon",
    "needs_rebooking",
)


class VisitInline(admin.TabularInline[Visit, Procedure]):
    model = Visit
    fields = VISIT_COLUMNS
    readonly_fields = VISIT_COLUMNS
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin[Procedure]):
    list_display = ["patient", "kind", "surgery_date", "surgeon", "status"]
    list_filter = ["status", "kind", "surgeon"]
    search_fields = ["patient__record_number", "patient__family_name"]
    autocomplete_fields = ["patient", "surgeon"]
    date_hierarchy = "surgery_date"
    inlines = [VisitInline]
    actions = ["replan_visits"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Procedure | None = None
    ) -> list[str]:
        always = [
            "status",
            "status_reason",
            "annual_reviews_ended_on",
            "annual_reviews_end_reason",
        ]
        if obj is None:
            return always
        return [*always, "patient", "kind", "surgery_date"]

    def save_model(
        self, request: HttpRequest, obj: Procedure, form: object, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            result = services.create_procedure(
                patient=obj.patient,
                surgeon=obj.surgeon,
                kind=obj.kind,
                surgery_date=obj.surgery_date,
                today=timezone.localdate(),
                actor=request.user if request.user.is_authenticated else None,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = result.procedure.pk

    @admin.action(description="Re-plan visits with the current rules")
    def replan_visits(
        self, request: HttpRequest, queryset: QuerySet[Procedure]
    ) -> None:
        changed = services.replan_all(
            today=timezone.localdate(),
            procedure_ids=list(queryset.values_list("pk", flat=True)),
        )
        self.message_user(request, f"{changed} visit(s) changed.", messages.SUCCESS)
