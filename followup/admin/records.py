"""Admin for patients, surgeons and procedures.

A procedure's patient, surgeon, date, kind and status change only through the
services (they re-plan the visits and tell the calendars), so the admin shows
them read-only once saved and offers actions that call the services. Patients
are created and corrected through the services too, so a new name reaches the
calendars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from clinic import audit
from clinic.models import (
    PATIENT_DETAILS,
    Patient,
    PatientReadKind,
    PatientViewChannel,
    Procedure,
    ProcedureKind,
    Reminders,
    Surgeon,
)
from clinic.phones import MAX_TYPED_LENGTH
from followup import services
from followup.access import Role, staff_of
from followup.admin.seen import SeenModelForm
from followup.exceptions import DomainError
from followup.models import MriStudy, Visit
from followup.services.mri import check_report_date, check_study
from followup.services.parsing import (
    EMAIL_MAX_LENGTH,
    check_surgery_date,
    parse_name,
    parse_record_number,
)
from followup.services.patients import Contact, check_birth_date


class PatientAdminForm(SeenModelForm):
    """Refuses what the service would refuse, before anything is saved, and
    a save over another admin's correction since the page was shown."""

    # As typed: read by the services' parsers in `clean`, stored in E.164.
    phone = forms.CharField(required=False, max_length=MAX_TYPED_LENGTH)
    email = forms.CharField(required=False, max_length=EMAIL_MAX_LENGTH)

    class Meta:
        model = Patient
        fields = list(PATIENT_DETAILS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not {"phone", "email", "reminders"} <= set(cleaned):
            return cleaned
        try:
            contact = Contact.parse(
                phone=cleaned["phone"],
                email=cleaned["email"],
                reminders=cleaned["reminders"],
            )
        except DomainError as exc:
            field = str(exc.errors[0]["field"]) if exc.errors else None
            self.add_error(field, exc.message)
            return cleaned
        cleaned.update(contact.as_dict())
        return cleaned

    def clean_record_number(self) -> str:
        # In capitals before the uniqueness check: "mrn00012" is MRN00012.
        try:
            return parse_record_number(self.cleaned_data["record_number"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_given_name(self) -> str:
        return self._name("given_name")

    def clean_family_name(self) -> str:
        return self._name("family_name")

    def _name(self, field_name: str) -> str:
        try:
            return parse_name(self.cleaned_data[field_name], field_name=field_name)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_birth_date(self) -> dt.date:
        born: dt.date = self.cleaned_data["birth_date"]
        try:
            check_birth_date(
                born, today=timezone.localdate(), patient_id=self.instance.pk
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return born


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    form = PatientAdminForm
    list_display = ["record_number", "family_name", "given_name", "birth_date"]
    # The search box finds what the desk's finds (`Patient.objects.search`).
    search_fields = ["record_number"]
    search_help_text = (
        "A name (accents and capitals do not matter), a record number, a phone "
        "number or a birth date."
    )
    readonly_fields = ["audit_trail"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Patient], search_term: str
    ) -> tuple[QuerySet[Patient], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False  # type: ignore[attr-defined]

    @admin.display(description="Audit trail")
    def audit_trail(self, obj: Patient) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="/admin/auditlog/logentry/?patient={}">Changes</a> · '
            '<a href="/admin/clinic/patientview/?patient={}">Who viewed</a> · '
            '<a href="/admin/clinic/patientread/?patient={}">Lists and searches '
            "that showed them</a>",
            obj.pk,
            obj.pk,
            obj.pk,
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        patient = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and isinstance(patient, Patient):
            # Reading a record in the admin is a read like any other.
            audit.record_patient_view(
                patient=patient,
                viewer=request.user,  # type: ignore[arg-type]
                channel=PatientViewChannel.ADMIN,
                now=timezone.now(),
            )
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        listed = getattr(response, "context_data", {}).get("cl")
        if request.method == "GET" and listed is not None:
            # A page of the list shows names and birth dates, searched or not.
            # Reading the page here fills the queryset's cache the template
            # then iterates, so the rows are read once.
            shown = [patient.pk for patient in listed.result_list]
            audit.record_patient_read(
                reader=request.user,  # type: ignore[arg-type]
                kind=PatientReadKind.ADMIN_PATIENTS,
                query=request.get_full_path(),
                patient_ids=shown,
                count=len(shown),
                now=timezone.now(),
            )
        return response

    def save_model(
        self, request: HttpRequest, obj: Patient, form: Any, change: bool
    ) -> None:
        # The form ran the service's checks. A refusal left here (another
        # clerk took the record number meanwhile) raises and rolls back
        # rather than being followed by "added successfully".
        today = timezone.localdate()
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            services.correct_patient(patient_id=obj.pk, today=today, **changed)
        else:
            obj.pk = services.create_patient(
                record_number=obj.record_number,
                given_name=obj.given_name,
                family_name=obj.family_name,
                birth_date=obj.birth_date,
                today=today,
                contact=Contact(
                    phone=obj.phone, email=obj.email, reminders=Reminders(obj.reminders)
                ),
            ).pk


@admin.register(Surgeon)
class SurgeonAdmin(admin.ModelAdmin[Surgeon]):
    form = SeenModelForm
    list_display = ["__str__", "user", "active"]
    list_filter = ["active"]
    search_fields = ["family_name", "given_name", "user__username"]
    autocomplete_fields = ["user"]

    def save_model(
        self, request: HttpRequest, obj: Surgeon, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # Their name is in the calendar entry of every visit booked with them.
            services.surgeon_edited(surgeon_id=obj.pk, changed=form.changed_data)


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


class ProcedureAdminForm(forms.ModelForm[Procedure]):
    """Refuses what the service would refuse, before anything is saved."""

    class Meta:
        model = Procedure
        fields = ["patient", "surgeon", "kind", "surgery_date"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        patient, surgeon, operated = (
            data.get("patient"),
            data.get("surgeon"),
            data.get("surgery_date"),
        )
        if surgeon is not None and not surgeon.active:
            self.add_error("surgeon", f"{surgeon} is no longer active.")
        if patient is not None and operated is not None:
            try:
                check_surgery_date(
                    operated, today=timezone.localdate(), birth_date=patient.birth_date
                )
            except DomainError as exc:
                self.add_error("surgery_date", exc.message)
        return data


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin[Procedure]):
    form = ProcedureAdminForm
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
        # Corrections go through the API's PATCH, which re-plans the visits.
        return [*always, "patient", "surgeon", "kind", "surgery_date"]

    def save_model(
        self, request: HttpRequest, obj: Procedure, form: object, change: bool
    ) -> None:
        if change:
            return  # every field is read-only once saved
        try:
            result = services.create_procedure(
                patient=obj.patient,
                surgeon=obj.surgeon,
                kind=ProcedureKind(obj.kind),
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
        # The clinic's rule, not the group permission: re-planning touches
        # every surgeon's procedures, so only a clinic admin may (the admin
        # site already admits no one else; this holds if that ever changes).
        if Role.ADMIN not in staff_of(request.user).roles:
            raise PermissionDenied("Only a clinic admin may re-plan visits.")
        changed = services.replan_all(
            today=timezone.localdate(),
            procedure_ids=list(queryset.values_list("pk", flat=True)),
        )
        self.message_user(request, f"{changed} visit(s) changed.", messages.SUCCESS)


class MriStudyAdminForm(forms.ModelForm[MriStudy]):
    """Refuses what the service would refuse, before anything is saved."""

    class Meta:
        model = MriStudy
        fields = ["patient", "performed_on", "reference", "report_received_on"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        study = self.instance
        performed = data.get("performed_on") or study.performed_on
        patient = data.get("patient") or (study.patient if study.pk else None)
        try:
            if performed is not None and patient is not None and not study.pk:
                check_study(
                    performed_on=performed, birth_date=patient.birth_date, today=today
                )
            if performed is not None:
                check_report_date(
                    data.get("report_received_on"), performed_on=performed, today=today
                )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return data


@admin.register(MriStudy)
class MriStudyAdmin(admin.ModelAdmin[MriStudy]):
    """Recorded through the service; once saved, only the report's date
    changes (a wrong scan is a new study, so annual reviews stay honest)."""

    form = MriStudyAdminForm
    list_display = ["patient", "performed_on", "reference", "report_received_on"]
    list_filter = ["report_received_on"]
    search_fields = ["reference", "patient__record_number", "patient__family_name"]
    list_select_related = ["patient"]
    autocomplete_fields = ["patient"]
    fields = ["patient", "performed_on", "reference", "report_received_on"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: MriStudy | None = None
    ) -> list[str]:
        return ["patient", "performed_on", "reference"] if obj else []

    def save_model(
        self, request: HttpRequest, obj: MriStudy, form: Any, change: bool
    ) -> None:
        # The form ran the service's checks; a refusal left here (the same
        # reference recorded meanwhile) raises and rolls back.
        today = timezone.localdate()
        if change:
            services.record_mri_report(
                study_id=obj.pk, received_on=obj.report_received_on, today=today
            )
            return
        obj.pk = services.record_mri_study(
            patient_id=obj.patient_id,
            performed_on=obj.performed_on,
            reference=obj.reference,
            report_received_on=obj.report_received_on,
            actor=request.user,  # type: ignore[arg-type]
            today=today,
        ).pk
