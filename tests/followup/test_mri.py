"""MRI readiness: each date boundary of `mri_status`, and the flagged reviews.

A stem-cell surgery on 1 November 2025 gives a first annual review due on 1
November 2026, window 2 October - 1 December 2026. With MRI_VALID_DAYS = 60
(the default), an unbooked review counts studies performed from 2 October to
1 December (its window's end) inclusive; booked on 26 November, from 27
September to 26 November.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import Patient, ProcedureKind
from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import MriStudy, Visit, VisitStatus
from tests.factories import TODAY, PatientFactory, make_procedure
from tests.followup.world import madrid

pytestmark = pytest.mark.django_db


@pytest.fixture
def review() -> Visit:
    procedure = make_procedure(
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL, surgery_date=dt.date(2025, 11, 1)
    )
    return Visit.objects.get(
        procedure=procedure, rule__code="annual_mri_review", occurrence=1
    )


def study(
    patient: Patient, performed_on: dt.date, report: dt.date | None = None
) -> MriStudy:
    return services.record_mri_study(
        patient_id=patient.pk,
        performed_on=performed_on,
        reference=f"ACC-{performed_on:%Y%m%d}-{MriStudy.objects.count()}",
        report_received_on=report,
        actor=None,
        today=dt.date(2026, 12, 31),
    )


def status_of(visit: Visit) -> str:
    # An annotation: read from the instance's dict, as the stubs see fields only.
    return str(vars(Visit.objects.with_mri_status().get(pk=visit.pk))["mri_status"])


def booked_on(visit: Visit, start: dt.datetime) -> Visit:
    Visit.objects.filter(pk=visit.pk).update(
        status=VisitStatus.BOOKED,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )
    return Visit.objects.get(pk=visit.pk)


def test_the_review_requires_an_mri_and_has_none_yet(review: Visit) -> None:
    assert review.requires_mri
    assert review.window_end == dt.date(2026, 12, 1)
    assert status_of(review) == "missing"


# (performed on, report?, status) for the unbooked review: window end 1 Dec.
UNBOOKED = [
    (dt.date(2026, 10, 2), True, "done"),  # exactly 60 days before
    (dt.date(2026, 10, 1), True, "missing"),  # one day more
    (dt.date(2026, 12, 1), True, "done"),  # on the window's last day
    (dt.date(2026, 12, 2), True, "missing"),  # after it: not counted
    (dt.date(2026, 10, 2), False, "report_pending"),
    (dt.date(2026, 10, 1), False, "missing"),
]


@pytest.mark.parametrize(("performed", "reported", "expected"), UNBOOKED)
def test_an_unbooked_review_reads_studies_up_to_its_windows_end(
    review: Visit, performed: dt.date, reported: bool, expected: str
) -> None:
    study(review.patient, performed, report=performed if reported else None)

    assert status_of(review) == expected


# (performed on, report?, status) for the review booked on 26 Nov at 09:00.
BOOKED = [
    (dt.date(2026, 9, 27), True, "done"),  # exactly 60 days before
    (dt.date(2026, 9, 26), True, "missing"),  # one day more
    (dt.date(2026, 11, 26), True, "done"),  # that morning
    (dt.date(2026, 11, 27), True, "missing"),  # after the visit: not counted
    (dt.date(2026, 11, 20), False, "report_pending"),
]


@pytest.mark.parametrize(("performed", "reported", "expected"), BOOKED)
def test_a_booked_review_reads_studies_up_to_its_start(
    review: Visit, performed: dt.date, reported: bool, expected: str
) -> None:
    booked_on(review, madrid(2026, 11, 26, 9))
    study(review.patient, performed, report=performed if reported else None)

    assert status_of(review) == expected


def test_the_start_is_read_on_the_clinics_clock(review: Visit) -> None:
    # 00:30 in Madrid on 26 November is still 25 November in UTC.
    booked_on(review, madrid(2026, 11, 26, 0, 30))
    study(review.patient, dt.date(2026, 11, 26), report=dt.date(2026, 11, 26))

    assert status_of(review) == "done"


def test_a_study_with_its_report_wins_over_one_still_pending(review: Visit) -> None:
    study(review.patient, dt.date(2026, 11, 1))
    assert status_of(review) == "report_pending"

    study(review.patient, dt.date(2026, 11, 5), report=dt.date(2026, 11, 9))

    assert status_of(review) == "done"


def test_the_report_arriving_makes_a_pending_mri_done(review: Visit) -> None:
    pending = study(review.patient, dt.date(2026, 11, 1))

    services.record_mri_report(
        study_id=pending.pk, received_on=dt.date(2026, 11, 3), today=TODAY
    )

    assert status_of(review) == "done"


def test_another_patients_study_does_not_count(review: Visit) -> None:
    study(PatientFactory.create(), dt.date(2026, 11, 1), report=dt.date(2026, 11, 2))

    assert status_of(review) == "missing"


def test_the_validity_is_the_setting(review: Visit, settings: Any) -> None:
    settings.MRI_VALID_DAYS = 30
    study(review.patient, dt.date(2026, 10, 31), report=dt.date(2026, 11, 2))
    assert status_of(review) == "missing"  # 31 days before 1 December

    settings.MRI_VALID_DAYS = 31

    assert status_of(review) == "done"


def test_a_visit_without_requires_mri_needs_none(review: Visit) -> None:
    postop = Visit.objects.get(procedure=review.procedure, rule__code="postop_control")
    study(review.patient, dt.date(2025, 11, 5), report=dt.date(2025, 11, 6))

    assert not postop.requires_mri
    assert status_of(postop) == "not_needed"


# --- the reviews to flag -------------------------------------------------------


def test_a_booked_review_in_the_next_14_days_without_its_mri_is_flagged(
    review: Visit,
) -> None:
    booked_on(review, madrid(2026, 11, 26, 9))

    assert list(Visit.objects.mri_flagged(TODAY)) == [review]
    # 14 days ahead is the last day it is flagged.
    assert list(Visit.objects.mri_flagged(dt.date(2026, 11, 12))) == [review]
    assert not Visit.objects.mri_flagged(dt.date(2026, 11, 11)).exists()

    study(review.patient, dt.date(2026, 11, 20))  # done, report pending
    assert list(Visit.objects.mri_flagged(TODAY)) == [review]

    study(review.patient, dt.date(2026, 11, 21), report=dt.date(2026, 11, 24))
    assert not Visit.objects.mri_flagged(TODAY).exists()


def test_an_unbooked_review_is_not_flagged_it_is_on_the_worklist(
    review: Visit,
) -> None:
    assert status_of(review) == "missing"
    assert not Visit.objects.mri_flagged(TODAY).exists()


# --- recording studies -----------------------------------------------------------


@pytest.mark.parametrize(
    ("performed", "report", "code"),
    [
        (dt.date(2026, 11, 26), None, "mri_in_future"),
        (dt.date(1960, 1, 1), None, "mri_before_birth"),
        (dt.date(2026, 11, 10), dt.date(2026, 11, 9), "report_before_scan"),
        (dt.date(2026, 11, 10), dt.date(2026, 11, 26), "report_in_future"),
    ],
)
def test_a_study_the_clinic_cannot_have_is_refused(
    review: Visit, performed: dt.date, report: dt.date | None, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.record_mri_study(
            patient_id=review.patient_id,
            performed_on=performed,
            reference="ACC-1",
            report_received_on=report,
            actor=None,
            today=TODAY,
        )

    assert refused.value.code == code
    assert not MriStudy.objects.exists()


def test_the_same_reference_twice_for_a_patient_is_a_conflict(review: Visit) -> None:
    given: dict[str, Any] = {
        "patient_id": review.patient_id,
        "performed_on": dt.date(2026, 11, 10),
        "reference": "ACC-77",
        "actor": None,
        "today": TODAY,
    }
    services.record_mri_study(**given)

    with pytest.raises(Conflict, match="Study ACC-77 is already recorded"):
        services.record_mri_study(**given)
    assert MriStudy.objects.count() == 1
