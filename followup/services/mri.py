"""MRI studies: the scans annual reviews need, and their reports.

An annual review reads them through `VisitQuerySet.with_mri_status`: a study
performed at most `MRI_VALID_DAYS` before the visit, with its report, makes
its MRI `done`. Recording a study changes no visit's state, so it writes no
`VisitEvent`; but a booked review's calendar event says "MRI missing" while
it is, so the patient's MRI visits are re-published (`visits_changed`) with a
higher SEQUENCE, as a correction of the patient's name does.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from clinic.models import Patient
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import MriStudy, Visit
from followup.services.parsing import required_text
from followup.services.republish import republish

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    User = AuthUser | None


def check_report_date(
    received: dt.date | None, *, performed_on: dt.date, today: dt.date
) -> None:
    if received is None:
        return
    if received < performed_on:
        raise InvalidInput(
            f"report_received_on {received} is before the scan ({performed_on}).",
            code="report_before_scan",
            params={"day": received, "performed_on": performed_on},
        )
    if received > today:
        raise InvalidInput(
            f"report_received_on {received} is in the future; record the report "
            "once it has arrived.",
            code="report_in_future",
            params={"day": received},
        )


def check_study(*, performed_on: dt.date, birth_date: dt.date, today: dt.date) -> None:
    if performed_on > today:
        raise InvalidInput(
            f"performed_on {performed_on} is in the future; record a study once "
            "it has been performed.",
            code="mri_in_future",
            params={"day": performed_on},
        )
    if performed_on < birth_date:
        raise InvalidInput(
            f"performed_on {performed_on} is before the patient's birth date "
            f"({birth_date}).",
            code="mri_before_birth",
            params={"day": performed_on, "birth_date": birth_date},
        )


def _republish_mri_visits(patient_id: int) -> None:
    """Re-render the patient's MRI reviews' calendar events (their MRI status
    may have changed), with a higher SEQUENCE so that clients replace them."""
    republish(Visit.objects.filter(patient_id=patient_id, requires_mri=True))


@transaction.atomic
def record_mri_study(
    *,
    patient_id: int,
    performed_on: dt.date,
    reference: str,
    report_received_on: dt.date | None = None,
    actor: User,
    today: dt.date,
) -> MriStudy:
    """Record a patient's MRI study; a reference already recorded is a 409."""
    performed = performed_on
    received = report_received_on
    reference = required_text(reference, field_name="reference", max_length=64)
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise NotFound(f"Patient {patient_id} does not exist.")
    check_study(performed_on=performed, birth_date=patient.birth_date, today=today)
    check_report_date(received, performed_on=performed, today=today)
    study = MriStudy(
        patient=patient,
        performed_on=performed,
        reference=reference,
        report_received_on=received,
        recorded_by=actor,
    )
    try:
        with transaction.atomic():
            study.save(force_insert=True)
    except IntegrityError:
        # The unique constraint: the same study recorded twice (or by two
        # clerks at once).
        raise Conflict(
            f"Study {reference} is already recorded for this patient.",
            code="duplicate_mri_study",
        ) from None
    _republish_mri_visits(patient.pk)
    return study


@transaction.atomic
def record_mri_report(
    *,
    study_id: int,
    received_on: dt.date | None,
    today: dt.date,
    pending_only: bool = False,
) -> MriStudy:
    """Record (or clear, with None) the day a study's report arrived.

    `pending_only` adds a report to a study shown as still waiting for it (a
    page's "Add the report date"): one recorded since, on another day, is
    kept and the call refused (409 `report_already_recorded`); the same day
    again (a second click) changes nothing."""
    study = MriStudy.objects.select_for_update().filter(pk=study_id).first()
    if study is None:
        raise NotFound(f"MRI study {study_id} does not exist.")
    if pending_only and study.report_received_on is not None:
        if study.report_received_on == received_on:
            return study
        raise Conflict(
            f"The report of study {study.reference} was already recorded as "
            f"received on {study.report_received_on}.",
            code="report_already_recorded",
            params={
                "reference": study.reference,
                "day": study.report_received_on,
            },
        )
    check_report_date(received_on, performed_on=study.performed_on, today=today)
    study.report_received_on = received_on
    study.save(update_fields=["report_received_on", "updated_at"])
    _republish_mri_visits(study.patient_id)
    return study
