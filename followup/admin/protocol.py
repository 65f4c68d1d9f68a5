"""Admin for the protocol (rules, milestones) and a read-only view of visits.

Editing a rule changes no visit already generated; the "re-plan" action on
procedures applies the current rules when the clinic asks for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from clinic import audit
from clinic.models import PatientReadKind, Surgeon
from core import csv_safety
from followup import services
from followup.admin.read_only import ReadOnlyAdmin
from followup.admin.seen import SeenModelForm
from followup.exceptions import Conflict
from followup.models import (
    ConsultationSession,
    ContactAttempt,
    FollowUpRule,
    RecoveryMilestone,
    ReplanJob,
    ReplanJobStatus,
    Visit,
    VisitEvent,
)
from followup.services.plan import OUTCOME_LABELS
from followup.services.replanning import Affected


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin[FollowUpRule]):
    form = SeenModelForm
    # Fits a 1280 px screen: the offset and the window each in one column.
    list_display = [
        "name",
        "code",
        "applies_to",
        "due",
        "window",
        "duration",
        "mri",
        "yearly",
        "active",
    ]
    list_display_links = ["name"]
    list_filter = ["active", "applies_to"]

    @admin.display(description="due", ordering="offset_amount")
    def due(self, rule: FollowUpRule) -> str:
        unit = rule.offset_unit  # day, month, year
        every = "every " if rule.recurring else ""
        return f"{every}{rule.offset_amount} {unit}{pluralize(rule.offset_amount)}"

    @admin.display(description="window (days)")
    def window(self, rule: FollowUpRule) -> str:
        return f"\N{MINUS SIGN}{rule.window_days_before} / +{rule.window_days_after}"

    @admin.display(description="length", ordering="duration_minutes")
    def duration(self, rule: FollowUpRule) -> str:
        return f"{rule.duration_minutes} min"

    @admin.display(description="MRI", boolean=True, ordering="requires_mri")
    def mri(self, rule: FollowUpRule) -> bool:
        return rule.requires_mri

    @admin.display(description="yearly", boolean=True, ordering="recurring")
    def yearly(self, rule: FollowUpRule) -> bool:
        return rule.recurring

    change_list_template = "admin/followup/followuprule/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("replan/", wrap(self.replan_preview), name="followup_replan"),
            path(
                "replan/affected.csv",
                wrap(self.replan_csv),
                name="followup_replan_csv",
            ),
            path(
                "replan/jobs/<int:job_id>/",
                wrap(self.replan_progress),
                name="followup_replan_job",
            ),
            *super().get_urls(),
        ]

    def save_model(
        self, request: HttpRequest, obj: FollowUpRule, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # Its name is in every calendar entry of its visits.
            services.rule_edited(rule_id=obj.pk, changed=form.changed_data)

    def response_change(self, request: HttpRequest, obj: FollowUpRule) -> HttpResponse:
        self.message_user(
            request,
            "Saved. Visits already planned keep their dates until you re-plan: "
            "preview the re-plan first from the list of rules.",
        )
        return super().response_change(request, obj)

    def _check(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def replan_preview(self, request: HttpRequest) -> HttpResponse:
        """What re-planning every active procedure would do; Apply or Back."""
        self._check(request)
        status = 200
        if request.method == "POST":
            try:
                job = services.start_replan(
                    actor=request.user,  # type: ignore[arg-type]
                    today=timezone.localdate(),
                    # The preview's rules: a rule edited since it was shown
                    # is refused, and the current preview shown instead; so
                    # is an Apply that does not say (an old page, a script).
                    rules_seen=request.POST.get("rules", "").strip(),
                )
            except Conflict as error:
                self.message_user(request, error.message, messages.ERROR)
                status = error.status
            else:
                return HttpResponseRedirect(
                    reverse("admin:followup_replan_job", args=[job.pk])
                )
        preview = services.preview_replan(today=timezone.localdate())
        context = {
            **self.admin_site.each_context(request),
            "title": "Re-plan every active procedure with the current rules",
            "opts": self.model._meta,
            "preview": preview,
            "counts": [
                (OUTCOME_LABELS[action], count)
                for action, count in sorted(preview.counts.items())
            ],
            "shown": _shown(preview.shown),
        }
        return TemplateResponse(
            request,
            "admin/followup/followuprule/replan_preview.html",
            context,
            status=status,
        )

    def replan_csv(self, request: HttpRequest) -> HttpResponse:
        """Every affected patient, for the clinic's own follow-up."""
        self._check(request)
        preview = services.preview_replan(today=timezone.localdate())
        audit.record_patient_read(
            reader=request.user,  # type: ignore[arg-type]
            kind=PatientReadKind.REPLAN_CSV,
            query=request.get_full_path(),
            patient_ids=[item.patient_id for item in preview.affected],
            count=len(preview.affected),
            now=timezone.now(),
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="replan-affected.csv"'
        # Patient names are data a spreadsheet must never run.
        writer = csv_safety.writer(response)
        writer.writerow(["procedure", "patient_id", "patient", "changes"])
        for item in preview.affected:
            writer.writerow(
                [
                    item.procedure_id,
                    item.patient_id,
                    item.patient,
                    " ".join(item.actions),
                ]
            )
        return response

    def replan_progress(self, request: HttpRequest, job_id: int) -> HttpResponse:
        self._check(request)
        job = get_object_or_404(ReplanJob, pk=job_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Re-plan {job.pk}",
            "opts": self.model._meta,
            "job": job,
            "running": job.status != ReplanJobStatus.FINISHED,
        }
        return TemplateResponse(
            request, "admin/followup/followuprule/replan_job.html", context
        )


@admin.register(ReplanJob)
class ReplanJobAdmin(admin.ModelAdmin[ReplanJob]):
    list_display = ["pk", "created_at", "created_by", "status", "done", "total"]
    list_display_links = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ReplanJob | None = None
    ) -> bool:
        return False


@admin.register(RecoveryMilestone)
class RecoveryMilestoneAdmin(admin.ModelAdmin[RecoveryMilestone]):
    """Every patient's feed shows the milestones: each change reaches them."""

    form = SeenModelForm
    list_display = ["code", "title", "applies_to", "offset_amount", "offset_unit"]

    def save_model(
        self, request: HttpRequest, obj: RecoveryMilestone, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if form.changed_data or not change:
            services.milestone_edited(milestone_id=obj.pk)

    def delete_model(self, request: HttpRequest, obj: RecoveryMilestone) -> None:
        super().delete_model(request, obj)
        services.milestone_edited()

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[RecoveryMilestone]
    ) -> None:
        super().delete_queryset(request, queryset)
        services.milestone_edited()


EVENT_COLUMNS = (
    "at",
    "actor_name",
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


ATTEMPT_COLUMNS = ("at", "actor_name", "channel", "outcome", "call_back_on", "note")


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
class VisitAdmin(ReadOnlyAdmin, admin.ModelAdmin[Visit]):
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


class SessionForm(SeenModelForm):
    """A session's hours, checked against the surgeon's other sessions (the
    model's `clean`) one save at a time: two admins adding overlapping hours
    for one surgeon at once would each find the other's not yet saved. The
    admin saves inside a transaction; the surgeon's row is locked until it
    commits (no_key: the surgeon's bookings are not held up)."""

    def clean(self) -> dict[str, Any]:
        surgeon = self.cleaned_data.get("surgeon")
        if surgeon is not None and transaction.get_connection().in_atomic_block:
            Surgeon.objects.select_for_update(no_key=True).filter(pk=surgeon.pk).first()
        return super().clean()


@admin.register(ConsultationSession)
class ConsultationSessionAdmin(admin.ModelAdmin[ConsultationSession]):
    """Weekly hours per surgeon; bookings already made are not re-checked."""

    form = SessionForm
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


@dataclass(frozen=True)
class _VisitLine:
    """One visit of the re-plan preview: its old and new due dates."""

    visit: str
    change: str
    before: dt.date | None
    after: dt.date | None


def _shown(affected: list[Affected]) -> list[tuple[Affected, list[_VisitLine]]]:
    names = dict(FollowUpRule.objects.values_list("code", "name"))
    return [
        (
            item,
            [
                _VisitLine(
                    visit=names.get(change.rule, change.rule)
                    + (f" ({change.occurrence})" if change.occurrence > 1 else ""),
                    change=OUTCOME_LABELS[change.action],
                    before=change.before.due_date if change.before else None,
                    after=change.after.due_date if change.after else None,
                )
                for change in item.changes
            ],
        )
        for item in affected
    ]
