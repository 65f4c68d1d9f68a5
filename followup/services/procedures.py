"""Procedures: registration, correction, cancellation, the annual programme.

Each service locks the procedure's row, changes it, and re-plans its visits
(`followup.services.plan`) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction

from clinic.models import Patient, Procedure, ProcedureKind, ProcedureStatus, Surgeon
from followup.changes import visits_changed
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import CancelReason
from followup.services.parsing import (
    check_surgery_date,
    required_text,
)
from followup.services.patients import NO_CONTACT, Contact, create_patient
from followup.services.plan import (
    PlanResult,
    VisitChange,
    cancel_by_plan,
    preview,
    replan,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    User = AuthUser | None


def _procedure(procedure_id: int) -> Procedure:
    try:
        return Procedure.objects.select_related("patient", "surgeon").get(
            pk=procedure_id
        )
    except (Procedure.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Procedure {procedure_id} does not exist.") from None


def _locked_procedure(procedure_id: int) -> Procedure:
    # The procedure row is the lock that serialises every re-plan of its
    # visits: two generations at once see each other's work.
    try:
        return (
            Procedure.objects.select_for_update()
            .select_related("patient", "surgeon")
            .get(pk=procedure_id)
        )
    except Procedure.DoesNotExist:
        raise NotFound(f"Procedure {procedure_id} does not exist.") from None


@transaction.atomic
def create_procedure(
    *,
    patient: Patient,
    surgeon: Surgeon,
    kind: ProcedureKind,
    surgery_date: dt.date,
    today: dt.date,
    actor: User = None,
) -> PlanResult:
    """Register a procedure and generate its visits, in one transaction."""
    operated = surgery_date
    check_surgery_date(operated, today=today, birth_date=patient.birth_date)
    if not surgeon.active:
        raise InvalidInput(
            f"{surgeon} is no longer active.",
            code="surgeon_inactive",
            params={"surgeon": str(surgeon)},
        )
    _refuse_a_second(patient, kind, operated)
    procedure = Procedure(
        patient=patient, surgeon=surgeon, kind=kind, surgery_date=operated
    )
    procedure.save(force_insert=True)
    return replan(procedure, today=today, actor=actor, action="generated")


def _refuse_a_second(patient: Patient, kind: ProcedureKind, operated: dt.date) -> None:
    """A Conflict when the patient already has this procedure (same kind and
    day, still active), as the CSV import reads such a row: a double click
    on Save, or an API call sent twice, must not plan a second set of
    visits. Under the patient's row lock, so two at once see each other."""
    list(
        Patient.objects.select_for_update(no_key=True)
        .filter(pk=patient.pk)
        .values_list("pk")
    )
    existing = (
        Procedure.objects.active()
        .filter(patient=patient, kind=kind, surgery_date=operated)
        .first()
    )
    if existing is not None:
        raise Conflict(
            f"{patient} already has this procedure: "
            f"{existing.get_kind_display().lower()} on {operated} "
            f"(procedure {existing.pk}).",
            code="duplicate_procedure",
            params={
                "procedure": existing.pk,
                "kind": existing.get_kind_display().lower(),
                "surgery_date": operated,
            },
        )


@transaction.atomic
def register_patient_with_procedure(
    *,
    record_number: str,
    given_name: str,
    family_name: str,
    birth_date: dt.date,
    surgeon: Surgeon,
    kind: ProcedureKind,
    surgery_date: dt.date,
    today: dt.date,
    actor: User = None,
    contact: Contact = NO_CONTACT,
) -> PlanResult:
    """Register a new patient and their first procedure, and plan its visits.

    One transaction: a refusal of either (a duplicate record number, a
    surgery before the birth date, an inactive surgeon) writes nothing.
    """
    patient = create_patient(
        record_number=record_number,
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        today=today,
        contact=contact,
    )
    return create_procedure(
        patient=patient,
        surgeon=surgeon,
        kind=kind,
        surgery_date=surgery_date,
        today=today,
        actor=actor,
    )


@transaction.atomic
def generate_visits(
    *, procedure_id: int, today: dt.date, actor: User = None
) -> PlanResult:
    """Bring a procedure's visits up to its plan; a no-op when they are."""
    procedure = _locked_procedure(procedure_id)
    return replan(
        procedure, today=today, actor=actor, action="generated", create_only=True
    )


@transaction.atomic
def correct_procedure(
    *,
    procedure_id: int,
    today: dt.date,
    actor: User = None,
    surgery_date: dt.date | None = None,
    kind: ProcedureKind | None = None,
) -> PlanResult:
    """Correct a procedure's date or kind and re-plan its visits.

    Unbooked visits move or are cancelled; a booked visit whose slot now
    falls outside its window keeps the slot and is flagged for rebooking;
    completed visits never change.
    """
    procedure = _locked_procedure(procedure_id)
    fields = _correct(procedure, today=today, surgery_date=surgery_date, kind=kind)
    if fields:
        procedure.save(update_fields=[*fields, "updated_at"])
        _procedure_changed(procedure)
    return replan(procedure, today=today, actor=actor, action="replanned")


def preview_correction(
    *,
    procedure_id: int,
    today: dt.date,
    surgery_date: dt.date | None = None,
    kind: ProcedureKind | None = None,
) -> list[VisitChange]:
    """Exactly what `correct_procedure` would change, writing nothing.

    The same checks refuse the same input; the corrected procedure is never
    saved, and the visits are planned by the same diff as the re-plan.
    """
    procedure = _procedure(procedure_id)
    _correct(procedure, today=today, surgery_date=surgery_date, kind=kind)
    return preview(procedure, today=today)


def _correct(
    procedure: Procedure,
    *,
    today: dt.date,
    surgery_date: dt.date | None,
    kind: ProcedureKind | None,
) -> list[str]:
    """Set a correction on the procedure in memory; the fields it changed."""
    if not procedure.is_active():
        raise Conflict(
            f"Procedure {procedure.pk} is {procedure.get_status_display().lower()}; "
            "it can no longer be corrected.",
            code="procedure_not_active",
            params={"status": procedure.get_status_display().lower()},
        )
    fields: list[str] = []
    if kind is not None and kind != procedure.kind:
        procedure.kind = kind
        fields.append("kind")
    if surgery_date is not None and surgery_date != procedure.surgery_date:
        check_surgery_date(
            surgery_date, today=today, birth_date=procedure.patient.birth_date
        )
        procedure.surgery_date = surgery_date
        fields.append("surgery_date")
    return fields


def _procedure_changed(procedure: Procedure) -> None:
    # The patient's feed shows the procedure's recovery milestones, which no
    # visit change carries: tell the calendars even when every visit is done.
    visits_changed(list(procedure.visits.values_list("pk", flat=True)))


@transaction.atomic
def cancel_procedure(
    *,
    procedure_id: int,
    reason: str,
    entered_in_error: bool = False,
    actor: User = None,
) -> PlanResult:
    """Cancel a procedure, or mark it entered in error: its open visits go."""
    reason = required_text(reason, field_name="reason", max_length=500)
    procedure = _locked_procedure(procedure_id)
    if not procedure.is_active():
        raise Conflict(
            f"Procedure {procedure_id} is already "
            f"{procedure.get_status_display().lower()}.",
            code="procedure_not_active",
            params={"status": procedure.get_status_display().lower()},
        )
    procedure.status = (
        ProcedureStatus.ENTERED_IN_ERROR
        if entered_in_error
        else ProcedureStatus.CANCELLED
    )
    procedure.status_reason = reason
    procedure.save(update_fields=["status", "status_reason", "updated_at"])
    result = PlanResult(procedure=procedure)
    cause = (
        CancelReason.ENTERED_IN_ERROR
        if entered_in_error
        else CancelReason.PROCEDURE_CANCELLED
    )
    for visit in procedure.visits.open().select_for_update():
        cancel_by_plan(visit, cause=cause, reason=reason, actor=actor)
        result.cancelled.append(visit.pk)
    _procedure_changed(procedure)
    return result


@transaction.atomic
def end_annual_reviews(
    *,
    procedure_id: int,
    end_date: dt.date,
    reason: str,
    today: dt.date,
    actor: User = None,
    end_overdue: bool = False,
    still_running: bool = False,
) -> PlanResult:
    """End a patient's annual MRI reviews: open reviews due after it go.

    With `end_overdue`, so do the programme's overdue reviews (window closed
    before `today`, still to book): due before the end, the plan keeps them.
    With `still_running` (a page that offered the end of a running
    programme), a programme ended meanwhile is refused, never moved.
    """
    reason = required_text(reason, field_name="reason", max_length=500)
    ended = end_date
    procedure = _locked_procedure(procedure_id)
    _check_endable(procedure, ended, still_running=still_running)
    procedure.annual_reviews_ended_on = ended
    procedure.annual_reviews_end_reason = reason
    procedure.save(
        update_fields=[
            "annual_reviews_ended_on",
            "annual_reviews_end_reason",
            "updated_at",
        ]
    )
    result = replan(
        procedure,
        today=today,
        actor=actor,
        action="programme_ended",
        cancel_cause=CancelReason.PROGRAMME_ENDED,
        reason=reason,
    )
    if end_overdue:
        overdue = procedure.visits.overdue(today).filter(rule__recurring=True)
        for visit in overdue.select_for_update(of=("self",)).order_by("pk"):
            cancel_by_plan(
                visit, cause=CancelReason.PROGRAMME_ENDED, reason=reason, actor=actor
            )
            result.cancelled.append(visit.pk)
    return result


def _check_endable(
    procedure: Procedure, ended: dt.date, *, still_running: bool
) -> None:
    """Refuse ending this procedure's programme on `ended`: not a stem-cell
    procedure, not active, ended meanwhile (`still_running`), or before the
    surgery."""
    procedure_id = procedure.pk
    if procedure.kind != ProcedureKind.ENDOSCOPIC_STEM_CELL:
        raise Conflict(
            "Only a stem-cell procedure has an annual-review programme.",
            code="no_annual_programme",
        )
    if not procedure.is_active():
        raise Conflict(
            f"Procedure {procedure_id} is {procedure.get_status_display().lower()}.",
            code="procedure_not_active",
            params={"status": procedure.get_status_display().lower()},
        )
    if still_running and procedure.annual_reviews_ended_on is not None:
        raise Conflict(
            f"The programme of procedure {procedure_id} already ends on "
            f"{procedure.annual_reviews_ended_on}.",
            code="programme_already_ended",
            params={"day": procedure.annual_reviews_ended_on},
        )
    if ended < procedure.surgery_date:
        raise InvalidInput(
            f"The programme cannot end ({ended}) before the surgery "
            f"({procedure.surgery_date}).",
            code="end_before_surgery",
            params={"day": ended, "surgery_date": procedure.surgery_date},
        )


def extend_annual_horizon(*, today: dt.date) -> int:
    """Generate the annual reviews that the rolling horizon now reaches.

    Run daily by Celery beat. Each procedure is its own transaction, so a
    long run never holds many locks, and running it twice creates nothing.
    Returns the number of visits created.
    """
    created = 0
    ids = Procedure.objects.with_annual_programme().values_list("pk", flat=True)
    for procedure_id in ids.iterator(chunk_size=500):
        with transaction.atomic():
            procedure = _locked_procedure(procedure_id)
            result = replan(
                procedure, today=today, actor=None, action="generated", create_only=True
            )
            created += len(result.created)
    return created


def replan_all(*, today: dt.date, procedure_ids: Iterable[int] | None = None) -> int:
    """Re-plan active procedures after a rule change; returns visits changed."""
    ids = procedure_ids
    if ids is None:
        ids = Procedure.objects.active().values_list("pk", flat=True).iterator()
    changed = 0
    for procedure_id in ids:
        with transaction.atomic():
            procedure = _locked_procedure(procedure_id)
            result = replan(procedure, today=today, actor=None, action="replanned")
            changed += sum(len(v) for v in result.as_dict().values())
    return changed
