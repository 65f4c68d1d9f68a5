"""A surgeon's week for the surgeon-page tests, built through the services.

"Now" is Wednesday 25 November 2026, 10:00 in Madrid (pin `clinic.clock.now`).
Surgeon A operated:
- Ana Abad (H-1001), on 15 Nov: her post-op control is booked today at 09:00
  and she is checked in;
- Carmen Cano (H-1003), a stem-cell implant on 10 Dec 2025: her first annual
  MRI review is due on 10 Dec 2026, still to book;
- Dora Diaz (H-1004), on 20 Nov: her post-op control is booked on Friday
  27 Nov at 09:00.
Surgeon B operated Berta Bravo (H-1002), on 20 Nov, still to book, and Elena
Esteban (H-1005), a stem-cell implant on 10 Dec 2025 whose annual review is
booked with surgeon A (covering) on Monday 30 Nov at 09:00.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.contrib.auth.models import User

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup import services
from followup.models import Visit
from tests.factories import PatientFactory, make_procedure

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=MADRID)
TODAY = NOW.date()


def madrid(month: int, day: int, hour: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=MADRID)


@dataclass
class SurgeonWorld:
    checked_in: Visit  # Ana Abad, today 09:00, checked in
    annual: Visit  # Carmen Cano's annual MRI review, to book
    mri_procedure: Procedure
    friday: Visit  # Dora Diaz, Friday 09:00
    other: Visit  # Berta Bravo, surgeon B's patient
    covered: Visit  # Elena Esteban's annual review, booked with surgeon A
    covered_procedure: Procedure


def _patient(record: str, given: str, family: str) -> Patient:
    return PatientFactory.create(
        record_number=record, given_name=given, family_name=family
    )


def _visit(procedure: Procedure, rule: str) -> Visit:
    return Visit.objects.get(procedure=procedure, rule__code=rule, occurrence=1)


def build(desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> SurgeonWorld:
    """The world above; `desk` books and checks in."""
    ana = make_procedure(
        patient=_patient("H-1001", "Ana", "Abad"),
        surgeon=surgeon_a,
        surgery_date=dt.date(2026, 11, 15),
        today=TODAY,
    )
    checked_in = _visit(ana, "postop_control")
    services.book_visit(
        visit_id=checked_in.pk,
        start=madrid(11, 25, 9),
        surgeon_id=surgeon_a.pk,
        actor=desk,
        now=madrid(11, 25, 8),
    )
    services.check_in_visit(visit_id=checked_in.pk, actor=desk, now=NOW)

    carmen = make_procedure(
        patient=_patient("H-1003", "Carmen", "Cano"),
        surgeon=surgeon_a,
        surgery_date=dt.date(2025, 12, 10),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        today=TODAY,
    )
    dora = make_procedure(
        patient=_patient("H-1004", "Dora", "Diaz"),
        surgeon=surgeon_a,
        surgery_date=dt.date(2026, 11, 20),
        today=TODAY,
    )
    friday = _visit(dora, "postop_control")
    services.book_visit(
        visit_id=friday.pk,
        start=madrid(11, 27, 9),
        surgeon_id=surgeon_a.pk,
        actor=desk,
        now=NOW,
    )
    berta = make_procedure(
        patient=_patient("H-1002", "Berta", "Bravo"),
        surgeon=surgeon_b,
        surgery_date=dt.date(2026, 11, 20),
        today=TODAY,
    )
    elena = make_procedure(
        patient=_patient("H-1005", "Elena", "Esteban"),
        surgeon=surgeon_b,
        surgery_date=dt.date(2025, 12, 10),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        today=TODAY,
    )
    covered = _visit(elena, "annual_mri_review")
    services.book_visit(
        visit_id=covered.pk,
        start=madrid(11, 30, 9),
        surgeon_id=surgeon_a.pk,
        actor=desk,
        now=NOW,
    )
    return SurgeonWorld(
        checked_in=Visit.objects.get(pk=checked_in.pk),
        annual=_visit(carmen, "annual_mri_review"),
        mri_procedure=carmen,
        friday=Visit.objects.get(pk=friday.pk),
        other=_visit(berta, "postop_control"),
        covered=Visit.objects.get(pk=covered.pk),
        covered_procedure=elena,
    )
