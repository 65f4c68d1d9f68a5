"""Admin for the protocol (rules, milestones) and a read-only view of visits.

Editing a rule changes no visit already generated; the "re-plan" action on
procedures applies the current rules when the clinic asks for it.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from followup.models import (
    ConsultationSession,
    ContactAttempt,
    FollowUpRule,
    RecoveryMilestone,
    Visit,
    VisitEvent,
)


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin[FollowUpRule]):
    list_display = [
        "code",
        "name",
        "applies_to",
        "offset_amount",
        "offset_unit",
        "window_days_before",
        "window_days_after",
        "duration_minutes",
        "requires_mri",
        "recurring",
        "active",
    ]
    list_filter = ["active", "applies_to"]


@admin.register(RecoveryMilestone)
class RecoveryMilestoneAdmin(admin.ModelAdmin[RecoveryMilestone]):
    list_display = ["code", "title", "applies_to", "offset_amount", "offset_unit"]


EVENT_COLUMNS = (
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "reason",
    "start_before",
    "start_after",
)


class VisitEventInline(admin.TabularInline[VisitEvent, Visit]):
    model = VisitEvent
    fields = EVENT_COLUMNS
    readonly_fields = EVENT_COLUMNS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


ATTEMPT_COLUMNS = ("at", "actor", "channel", "outcome", "call_back_on", "note")


class ContactAttemptInline(admin.TabularInline[ContactAttempt, Visit]):
    """Recorded through the API or the pages (their outcomes act on visits)."""

    model = ContactAttempt
    fields = ATTEMPT_COLUMNS
    readonly_fields = ATTEMPT_COLUMNS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin[Visit]):
    """Visits change through the front desk's services, never by hand here."""

    # Short columns: the procedure's long name pushed every other column out
    # of sight at 1280 px.
    list_display = [
        "patient_label",
        "rule",
        "status",
        "due_date",
        "window_end",
        "start",
        "surgeon",
        "needs_rebooking",
    ]
    list_filter = ["status", "rule", "needs_rebooking", "requires_mri"]
    search_fields = ["patient__record_number", "patient__family_name"]
    list_select_related = ["patient", "rule", "surgeon"]
    inlines = [VisitEventInline, ContactAttemptInline]

    @admin.display(description="Patient", ordering="patient__record_number")
    def patient_label(self, visit: Visit) -> str:
        return visit.patient.label()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Visit | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Visit | None = None
    ) -> bool:
        return False


@admin.register(ConsultationSession)
class ConsultationSessionAdmin(admin.ModelAdmin[ConsultationSession]):
    """Weekly hours per surgeon; bookings already made are not re-checked."""

    list_display = [
        "surgeon",
        "weekday",
        "start_time",
        "end_time",
        "slot_minutes",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["surgeon", "weekday"]
    list_select_related = ["surgeon"]
