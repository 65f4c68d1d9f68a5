"""`/desk/patients/<id>/`: a patient's procedures, plan, history and calendar link.

Who opens it: the front desk and clinic admins, and a surgeon for their own
patients (`access_patient` scopes first, so another surgeon's patient is a
404). A surgeon reads it: what they see is the one rule for a surgeon's
patients (their procedures, the visits of those, the visits booked with
them), and the calendar link and the registration of a procedure are the
desk's jobs, not theirs.

The front desk records contact attempts on the open visits here, as on the
worklist's call list, and the patient's MRI studies and their reports. Each
is a form (`web.patients.forms`); a refusal re-renders the page with the
message beside that form and what was typed still in it. Each MRI review
shows its `mri_status`, read in the visits' own query.

A patient's calendar link is handed out here by the calendar-link views
(`web.links.views`), this page being their `PATIENT_LINKS` place: its URL is
known only in the answer to create or rotate, so that answer is this page,
rendered directly, never cached, with a QR code the patient scans at the desk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from clinic import audit, clock, phones
from clinic.models import Patient, PatientViewChannel
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup import services
from followup.access import Role, access_visit, staff_of
from followup.exceptions import DomainError, NotFound
from followup.models import ContactChannel, ContactOutcome, MriStudy, Visit
from followup.services.outreach import CONTACTABLE_STATUSES
from followup.services.patients import Contact
from web.forms import attempt_said, confirm_care_ending
from web.links.cards import LinkCard, NewUrl, patient_card
from web.methods import post_or_show
from web.patient_access import page_url, patient_for
from web.patients.forms import (
    ContactForm,
    MriReportForm,
    MriStudyForm,
    PatientContactForm,
    ReopenForm,
    RowForm,
)
from web.patients.rows import link_rows, message_rows, offer_rows, procedure_plans
from web.roles import DESK_ROLES, SURGEON_ROLES, role_required


def _page(
    request: HttpRequest,
    patient: Patient,
    *,
    new_url: NewUrl | None = None,
    refused: RowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = clock.today()
    may_write = staff_of(request.user).has(*DESK_ROLES)
    plans = procedure_plans(patient, staff_of(request.user), today=today)
    studies = list(patient.mri_studies.order_by("-performed_on", "-id"))
    # The MRI card where it means something: a review needs one, one exists,
    # or the desk just tried to record one.
    needs_mri = (
        (refused is not None and refused.key.startswith("mri"))
        or bool(studies)
        or any(
            entry.visit is not None and entry.visit.requires_mri
            for plan in plans
            for entry in plan.entries
        )
    )
    context = {
        "title": f"{patient.given_name} {patient.family_name}",
        "patient": patient,
        "plans": plans,
        "needs_mri": needs_mri,
        "today": today,
        "may_register": may_write,
        "may_contact": may_write,
        "may_record_mri": may_write,
        "may_reopen": staff_of(request.user).has(Role.ADMIN),
        "contactable": [str(value) for value in CONTACTABLE_STATUSES],
        "channels": ContactChannel.choices,
        "outcomes": ContactOutcome.choices,
        "mri_studies": studies,
        "left_care": Visit.objects.filter(patient=patient)
        .left_care()
        .values_list("cancelled_by", flat=True)
        .first(),
        "refused": refused,
        "details_form": _details_form(patient, refused),
        "details_shown": Contact.of(patient).fingerprint(),
        "link_card": patient_card(request, patient.pk, new_url),
        "messages_sent": message_rows(patient, staff_of(request.user), now=clock.now()),
        "offers": offer_rows(patient, staff_of(request.user), now=clock.now()),
        # The desk's: a surgeon neither makes nor reads out links.
        "booking_links": link_rows(plans, today=today) if may_write else [],
    }
    return render(request, "web/patients/patient.html", context, status=status)


def _details_form(patient: Patient, refused: RowForm | None) -> RowForm:
    """The contact details' form: refused, with what was typed; else the
    patient's details, the phone as the clinic writes it."""
    if refused is not None and refused.key == PatientContactForm.KEY:
        return refused
    initial = {
        "phone": phones.for_display(patient.phone),
        "email": patient.email,
        "reminders": patient.reminders,
    }
    return PatientContactForm(initial=initial)


@role_required(*DESK_ROLES, *SURGEON_ROLES)
def patient_page(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk)
    # Who read whose record, for the audit trail (clinic.audit).
    audit.record_patient_view(
        patient=patient,
        viewer=request.user,  # type: ignore[arg-type]
        channel=PatientViewChannel.PAGE,
        now=clock.now(),
    )
    return _page(request, patient)


class PatientLinks:
    """This page as the place of the calendar-link views (`web.links.views`)."""

    roles = DESK_ROLES
    scope = LinkScope.PATIENT.value
    created = "Calendar link created. Let the patient scan it now: it is shown once."
    rotated = (
        "Link rotated: the old URL no longer works. Let the patient scan the new one."
    )
    duplicate = (
        "This patient already has a calendar link. Rotate it for a new URL, "
        "or revoke it first."
    )

    def cards(self, request: HttpRequest, *, pk: int) -> list[LinkCard]:
        patient = patient_for(request, pk, write=True)
        card = patient_card(request, patient.pk)
        return [card] if card is not None else []

    def link(
        self, request: HttpRequest, link_id: int, *, revoked: bool, pk: int
    ) -> CalendarLink:
        patient = patient_for(request, pk, write=True)
        link = links.access_link(request.user, link_id, revoked=revoked)
        if link.scope != LinkScope.PATIENT or link.patient_id != patient.pk:
            raise NotFound(f"Calendar link {link_id} does not exist.")
        return link

    def page(
        self, request: HttpRequest, *, new_url: NewUrl | None, status: int, pk: int
    ) -> HttpResponse:
        return _page(request, patient_for(request, pk), new_url=new_url, status=status)

    def back(self, *, pk: int) -> str:
        return page_url(pk, "calendar-link")


PATIENT_LINKS = PatientLinks()


# --- contact attempts and MRI studies ---------------------------------------------


def _refused(
    request: HttpRequest, patient: Patient, form: RowForm, error: DomainError | None
) -> HttpResponse:
    """The page again, the refused form in its place with what was typed."""
    if error is not None:
        form.refuse(error)
    status = error.status if error is not None else 400
    return _page(request, patient, refused=form, status=status)


def _submit(
    request: HttpRequest,
    patient: Patient,
    form: RowForm,
    save: Callable[[dict[str, Any]], str],
    *,
    anchor: str,
) -> HttpResponse:
    """A valid form saved by one service call, then back to the page at
    `anchor` with what `save` says; any refusal beside the form."""
    if not form.is_valid():
        return _refused(request, patient, form, None)
    try:
        said = save(form.cleaned_data)
    except DomainError as error:
        return _refused(request, patient, form, error)
    messages.success(request, said)
    return HttpResponseRedirect(page_url(patient.pk, anchor))


def _at_visit(request: HttpRequest, pk: int, visit_id: int) -> str:
    return page_url(pk, f"visit-{visit_id}")


def _patients_visit(
    request: HttpRequest, pk: int, visit_id: int, *, action: str
) -> tuple[Patient, Visit]:
    """The patient of the page and their visit `visit_id`, to change; another
    patient's visit is one that does not exist here."""
    patient = patient_for(request, pk, write=True)
    visit = access_visit(request.user, visit_id, action=action)
    if visit.patient_id != patient.pk:
        raise NotFound(f"Visit {visit_id} does not exist.")
    return patient, visit


def _at_contact_details(request: HttpRequest, pk: int) -> str:
    return page_url(pk, "contact-details")


def _at_studies(request: HttpRequest, pk: int, study_id: int | None = None) -> str:
    return page_url(pk, "mri-studies")


@role_required(*DESK_ROLES)
@post_or_show(_at_visit)
def record_contact(request: HttpRequest, pk: int, visit_id: int) -> HttpResponse:
    patient, visit = _patients_visit(request, pk, visit_id, action="contact")

    form = ContactForm(request.POST, key=f"contact-{visit_id}")

    def save(data: dict[str, Any]) -> str:
        confirm_care_ending(form, visit)
        attempt = form.record(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=clock.now(),
        )
        return f"Saved. {attempt_said(attempt)}"

    return _submit(request, patient, form, save, anchor=f"visit-{visit_id}")


@role_required(*DESK_ROLES)
@post_or_show(_at_contact_details)
def set_contact_details(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)

    def save(data: dict[str, Any]) -> str:
        services.correct_patient(
            patient_id=patient.pk,
            today=clock.today(),
            phone=data["phone"],
            email=data["email"],
            reminders=data["reminders"],
            contact_seen=data["shown"] or None,
        )
        return "Saved. Contact details and reminders updated."

    form = PatientContactForm(request.POST)
    return _submit(request, patient, form, save, anchor="contact-details")


@role_required(*DESK_ROLES)
@post_or_show(_at_studies)
def record_mri_study(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)

    def save(data: dict[str, Any]) -> str:
        study = services.record_mri_study(
            patient_id=patient.pk,
            **data,
            actor=request.user,  # type: ignore[arg-type]
            today=clock.today(),
        )
        return f"Saved. MRI study {study.reference} recorded."

    form = MriStudyForm(request.POST, key="mri-study")
    return _submit(request, patient, form, save, anchor="mri-studies")


@role_required(*DESK_ROLES)
@post_or_show(_at_studies)
def record_mri_report(request: HttpRequest, pk: int, study_id: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    if not MriStudy.objects.filter(pk=study_id, patient_id=patient.pk).exists():
        raise NotFound(f"MRI study {study_id} does not exist.")

    def save(data: dict[str, Any]) -> str:
        study = services.record_mri_report(
            study_id=study_id,
            received_on=data["report_received_on"],
            today=clock.today(),
            pending_only=True,
        )
        return f"Saved. Report of {study.reference} recorded."

    form = MriReportForm(request.POST, key=f"mri-report-{study_id}")
    return _submit(request, patient, form, save, anchor="mri-studies")


@role_required(Role.ADMIN)
@post_or_show(_at_visit)
def reopen_visit(request: HttpRequest, pk: int, visit_id: int) -> HttpResponse:
    """A clinic admin reopens a visit cancelled by mistake, saying why."""
    patient, visit = _patients_visit(request, pk, visit_id, action="reopen")

    def save(data: dict[str, Any]) -> str:
        services.reopen_visit(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            reason=data["reason"],
            now=clock.now(),
            sequence=data["sequence"],
        )
        return "Saved. The visit is reopened: it is to book again."

    form = ReopenForm(request.POST, key=f"reopen-{visit_id}")
    return _submit(request, patient, form, save, anchor=f"visit-{visit_id}")
