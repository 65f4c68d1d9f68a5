"""`/desk/patients/<id>/`: a patient's procedures, plan, history and calendar link.

Who opens it: the front desk and clinic admins, and a surgeon for their own
patients (`access_patient` scopes first, so another surgeon's patient is a
404). A surgeon reads it: what they see is the one rule for a surgeon's
patients (their procedures, the visits of those, the visits booked with
them), and the calendar link and the registration of a procedure are the
desk's jobs, not theirs.

The page runs the same number of queries whatever the number of visits: the
procedures, their visits and the visits' events come in three prefetched
queries.

The front desk records contact attempts on the open visits here, as on the
worklist's call list, and the patient's MRI studies and their reports; a
refusal re-renders the page with the message beside the form and what was
typed still in it. Each MRI review shows its `mri_status`, read in the
visits' own query.

A patient's calendar link is handed out here, as on `/calendar-links/`: its
URL is known only in the answer to create or rotate, so that answer is
rendered directly, never cached, with a QR code the patient scans at the desk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from clinic import audit, clock
from clinic.models import Patient, PatientViewChannel, Procedure
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup import rules, services
from followup.access import Forbidden, access_visit, staff_of
from followup.exceptions import DomainError, InvalidInput, NotFound
from followup.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    MriStudy,
    RecoveryMilestone,
    Visit,
    VisitEvent,
    plan_input,
)
from followup.services.outreach import CONTACTABLE_STATUSES
from web.links.cards import NewUrl, qr_svg
from web.patient_access import page_url, patient_for
from web.roles import DESK_ROLES, SURGEON_ROLES, role_required


@dataclass(frozen=True)
class Entry:
    """One line of a procedure's timeline: a visit, a milestone, or today."""

    date: dt.date
    visit: Visit | None = None
    milestone: str = ""
    is_today: bool = False
    is_past: bool = False
    is_overdue: bool = False

    @property
    def title(self) -> str:
        if self.visit is None:
            return self.milestone
        rule = self.visit.rule
        if rule.recurring:
            return f"{rule.name}, year {self.visit.occurrence}"
        return rule.name


@dataclass
class ProcedurePlan:
    procedure: Procedure
    entries: list[Entry] = field(default_factory=list)


def timeline(
    procedure: Procedure,
    visits: list[Visit],
    milestones: list[rules.MilestoneSpec],
    *,
    today: dt.date,
) -> list[Entry]:
    """Visits (by their booked day, else their due date), the recovery
    milestones, and a marker for today, in date order."""
    entries = [
        Entry(
            date=visit.slot_local_date() or visit.due_date,
            visit=visit,
            is_past=(visit.slot_local_date() or visit.due_date) < today,
            is_overdue=visit.is_overdue(today),
        )
        for visit in visits
    ]
    entries += [
        Entry(date=day, milestone=spec.title, is_past=day < today)
        for spec, day in rules.milestones(plan_input(procedure), milestones)
    ]
    entries.sort(key=lambda entry: (entry.date, entry.visit is None))
    if entries:
        where = next(
            (i for i, entry in enumerate(entries) if entry.date >= today), len(entries)
        )
        entries.insert(where, Entry(date=today, is_today=True))
    return entries


def _plans(
    patient: Patient, request: HttpRequest, today: dt.date
) -> list[ProcedurePlan]:
    staff = staff_of(request.user)
    events = VisitEvent.objects.select_related("actor").order_by("id")
    attempts = ContactAttempt.objects.select_related("actor").order_by("id")
    visits = (
        Visit.objects.visible_to(staff)
        .select_related("rule", "surgeon")
        .with_mri_status()
        .with_contact_summary()
        .prefetch_related(
            Prefetch("events", queryset=events),
            Prefetch("contact_attempts", queryset=attempts),
        )
        .order_by("due_date", "id")
    )
    procedures = (
        Procedure.objects.visible_to(staff)
        .filter(patient=patient)
        .select_related("surgeon")
        .prefetch_related(Prefetch("visits", queryset=visits))
        .order_by("-surgery_date", "-id")
    )
    specs = RecoveryMilestone.objects.specs()
    return [
        ProcedurePlan(
            procedure=procedure,
            entries=timeline(
                procedure, list(procedure.visits.all()), specs, today=today
            ),
        )
        for procedure in procedures
    ]


# --- the calendar link ---------------------------------------------------------


@dataclass(frozen=True)
class LinkSection:
    links: list[CalendarLink]
    may_create: bool
    new_url: NewUrl | None = None

    @property
    def qr(self) -> SafeString | None:
        return qr_svg(self.new_url.url) if self.new_url else None

    @property
    def status(self) -> str:
        """The page header's word for the patient's calendar."""
        if any(getattr(link, "serving", False) for link in self.links):
            return "Linked"
        return "Not serving" if self.links else "No link yet"


def _may_hand_out_links(request: HttpRequest) -> bool:
    try:
        links.check_may_create(request.user, scope=LinkScope.PATIENT, surgeon_id=None)
    except Forbidden:
        return False
    return True


def _link_section(
    request: HttpRequest, patient: Patient, new_url: NewUrl | None
) -> LinkSection | None:
    if not _may_hand_out_links(request):
        return None
    live = (
        links.visible_to(request.user)
        .filter(scope=LinkScope.PATIENT, patient_id=patient.pk)
        .order_by("-created_at", "pk")
    )
    return LinkSection(links=list(live), may_create=True, new_url=new_url)


# --- the page -----------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A refused form on the page: which one, the message, what was typed."""

    form: str  # "contact-<visit id>", "mri-study" or "mri-report-<study id>"
    message: str
    typed: dict[str, str]


def _page(
    request: HttpRequest,
    patient: Patient,
    *,
    new_url: NewUrl | None = None,
    refusal: Refusal | None = None,
    status: int = 200,
) -> HttpResponse:
    today = clock.today()
    staff = staff_of(request.user)
    may_write = staff.has(*DESK_ROLES)
    plans = _plans(patient, request, today)
    studies = list(patient.mri_studies.order_by("-performed_on", "-id"))
    # The MRI card where it means something: a review needs one, one exists,
    # or the desk just tried to record one.
    tried = refusal is not None and refusal.form.startswith("mri")
    needs_mri = (
        tried
        or bool(studies)
        or any(
            entry.visit is not None and entry.visit.requires_mri
            for plan in plans
            for entry in plan.entries
        )
    )
    response = render(
        request,
        "web/patients/patient.html",
        {
            "title": f"{patient.given_name} {patient.family_name}",
            "patient": patient,
            "plans": plans,
            "needs_mri": needs_mri,
            "today": today,
            "may_register": may_write,
            "may_contact": may_write,
            "may_record_mri": may_write,
            "contactable": [str(value) for value in CONTACTABLE_STATUSES],
            "channels": ContactChannel.choices,
            "outcomes": ContactOutcome.choices,
            "mri_studies": studies,
            "refusal": refusal,
            "link_section": _link_section(request, patient, new_url),
        },
        status=status,
    )
    if new_url is not None:
        add_never_cache_headers(response)
    return response


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


def _refused(
    request: HttpRequest, patient: Patient, error: DomainError
) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, Forbidden):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return _page(request, patient, status=error.status)


def _issued(
    request: HttpRequest, patient: Patient, issued: links.IssuedLink, said: str
) -> HttpResponse:
    messages.success(request, said)
    url = request.build_absolute_uri(issued.path)
    return _page(request, patient, new_url=NewUrl(link_id=issued.link.pk, url=url))


def _patient_link(request: HttpRequest, patient: Patient, link_id: int) -> CalendarLink:
    link = links.access_link(request.user, link_id)
    if link.scope != LinkScope.PATIENT or link.patient_id != patient.pk:
        raise NotFound(f"Calendar link {link_id} does not exist.")
    return link


@require_POST
@role_required(*DESK_ROLES)
def create_link(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    if not _may_hand_out_links(request):
        raise PermissionDenied("Your role cannot hand out a patient's calendar link.")
    section = _link_section(request, patient, None)
    if section is not None and section.links:
        messages.error(
            request,
            "This patient already has a calendar link. Rotate it for a new URL, "
            "or revoke it first.",
        )
        return _page(request, patient, status=409)
    try:
        issued = links.create_link(
            scope=LinkScope.PATIENT,
            patient_id=patient.pk,
            actor=request.user,  # type: ignore[arg-type]
        )
    except DomainError as error:
        return _refused(request, patient, error)
    return _issued(
        request,
        patient,
        issued,
        "Calendar link created. Let the patient scan it now: it is shown once.",
    )


@require_POST
@role_required(*DESK_ROLES)
def rotate_link(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    try:
        link = _patient_link(request, patient, link_id)
        issued = links.rotate_link(link_id=link.pk, actor=request.user, now=clock.now())
    except DomainError as error:
        return _refused(request, patient, error)
    return _issued(
        request,
        patient,
        issued,
        "Link rotated: the old URL no longer works. Let the patient scan the new one.",
    )


@require_POST
@role_required(*DESK_ROLES)
def revoke_link(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    try:
        link = _patient_link(request, patient, link_id)
        links.revoke_link(link_id=link.pk, now=clock.now(), actor=request.user)
    except DomainError as error:
        return _refused(request, patient, error)
    messages.success(request, "Link revoked: its URL no longer works.")
    return HttpResponseRedirect(page_url(patient.pk, "calendar-link"))


# --- contact attempts and MRI studies ---------------------------------------------


def _refused_form(
    request: HttpRequest, patient: Patient, form: str, error: DomainError
) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404(error.message)
    if isinstance(error, Forbidden):
        raise PermissionDenied(error.message)
    typed = {name: request.POST.get(name, "") for name in TYPED}
    refusal = Refusal(form=form, message=error.message, typed=typed)
    return _page(request, patient, refusal=refusal, status=error.status)


TYPED = (
    "channel",
    "outcome",
    "note",
    "call_back_on",
    "performed_on",
    "reference",
    "report_received_on",
)


@require_POST
@role_required(*DESK_ROLES)
def record_contact(request: HttpRequest, pk: int, visit_id: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    try:
        visit = access_visit(request.user, visit_id, action="contact")
        if visit.patient_id != patient.pk:
            raise NotFound(f"Visit {visit_id} does not exist.")
        attempt = services.record_contact_attempt(
            visit_id=visit.pk,
            channel=request.POST.get("channel", ""),
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            call_back_on=request.POST.get("call_back_on", "").strip() or None,
            actor=request.user,  # type: ignore[arg-type]
            now=clock.now(),
        )
    except DomainError as error:
        return _refused_form(request, patient, f"contact-{visit_id}", error)
    said = f"Saved. {attempt.get_channel_display()} attempt recorded: "
    said += f"{attempt.get_outcome_display().lower()}."
    messages.success(request, said)
    return HttpResponseRedirect(page_url(patient.pk, f"visit-{visit_id}"))


@require_POST
@role_required(*DESK_ROLES)
def record_mri_study(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    try:
        study = services.record_mri_study(
            patient_id=patient.pk,
            performed_on=request.POST.get("performed_on", "").strip(),
            reference=request.POST.get("reference", ""),
            report_received_on=request.POST.get("report_received_on", "").strip()
            or None,
            actor=request.user,  # type: ignore[arg-type]
            today=clock.today(),
        )
    except DomainError as error:
        return _refused_form(request, patient, "mri-study", error)
    messages.success(request, f"Saved. MRI study {study.reference} recorded.")
    return HttpResponseRedirect(page_url(patient.pk, "mri-studies"))


@require_POST
@role_required(*DESK_ROLES)
def record_mri_report(request: HttpRequest, pk: int, study_id: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    form = f"mri-report-{study_id}"
    try:
        if not MriStudy.objects.filter(pk=study_id, patient_id=patient.pk).exists():
            raise NotFound(f"MRI study {study_id} does not exist.")
        received = request.POST.get("report_received_on", "").strip()
        if not received:
            raise InvalidInput("Give the day the report arrived.")
        study = services.record_mri_report(
            study_id=study_id, received_on=received, today=clock.today()
        )
    except DomainError as error:
        return _refused_form(request, patient, form, error)
    messages.success(request, f"Saved. Report of {study.reference} recorded.")
    return HttpResponseRedirect(page_url(patient.pk, "mri-studies"))
