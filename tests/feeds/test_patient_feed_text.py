"""A patient's own feed speaks to the patient: dates as the clinic writes
them, and the clinic's phone number (CLINIC_PHONE, read when rendered)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import ProcedureKind, Surgeon
from feeds import rendering
from followup.models import Visit
from tests.factories import PatientFactory, make_procedure
from tests.feeds.helpers import book

pytestmark = pytest.mark.django_db


def unfolded(visit: Visit, *, for_patient: bool) -> str:
    (fresh,) = rendering._visits_for_rendering([visit.pk])
    return rendering.render_entry(fresh, for_patient=for_patient).replace("\r\n ", "")


@pytest.fixture
def visits(surgeon_a: Surgeon) -> dict[str, Visit]:
    procedure = make_procedure(
        patient=PatientFactory.create(),
        surgeon=surgeon_a,
        kind=ProcedureKind.ENDOSCOPIC,
        surgery_date=dt.date(2026, 11, 2),
        today=dt.date(2026, 11, 25),
    )
    return {visit.rule.code: visit for visit in procedure.visits.select_related("rule")}


def test_a_window_is_in_the_clinics_date_format_with_its_phone(
    visits: dict[str, Visit], settings: Any
) -> None:
    settings.CLINIC_PHONE = "+34 911 222 333"
    control = visits["one_month_control"]
    start, end = control.window_start, control.window_end

    text = unfolded(control, for_patient=True)

    assert (
        f"DESCRIPTION:Book this visit between {start:%a} {start.day} {start:%b %Y} "
        f"and {end:%a} {end.day} {end:%b %Y}. To book it\\, call the clinic on "
        "+34 911 222 333.\r\n"
    ) in text
    assert start.isoformat() not in text
    # The staff's entry is unchanged.
    assert f"between {start.isoformat()} and" in unfolded(control, for_patient=False)


def test_a_booked_visit_tells_the_patient_whom_to_call(
    visits: dict[str, Visit], settings: Any
) -> None:
    settings.CLINIC_PHONE = "+34 911 222 333"
    control = book(visits["postop_control"], dt.date(2026, 11, 30), 9)

    patient = unfolded(control, for_patient=True)
    staff = unfolded(control, for_patient=False)

    assert "To change or cancel it\\, call the clinic on +34 911 222 333." in patient
    assert "911 222 333" not in staff
    settings.CLINIC_PHONE = ""
    assert "call the clinic" not in unfolded(control, for_patient=True)
