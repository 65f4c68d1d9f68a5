"""The worklist's cast of visits, on a pinned clinic clock.

Monday 30 November 2026, 08:00 in Madrid. The surgeon has no sessions of
their own, so they consult in the clinic hours (weekdays 09:00-14:00, slots
of 10 minutes): the first free slot is 09:00 today.

- María García López (MRN00012): operated 20 Nov; post-op window 27 Nov to
  5 Dec (open), one-month control 13 to 27 Dec (not yet open).
- Jorge Ruiz (MRN00020): operated 16 Nov; post-op window closes 1 Dec (closing).
- Pilar Sanz (MRN00030): operated 1 Oct; both windows closed (overdue).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from clinic.clock import start_of_day
from clinic.models import Patient, Surgeon
from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit
from tests.factories import PatientFactory, SurgeonFactory, make_procedure

TODAY = dt.date(2026, 11, 30)
NOW = start_of_day(TODAY) + dt.timedelta(hours=8)


def pin_clock(monkeypatch: pytest.MonkeyPatch, now: dt.datetime = NOW) -> None:
    """The pages read `clinic.clock.now()`; so does everything they call."""
    monkeypatch.setattr("clinic.clock.now", lambda: now)


@dataclass
class DeskCast:
    surgeon: Surgeon
    other_surgeon: Surgeon
    maria: Patient
    jorge: Patient
    pilar: Patient

    def visit(self, patient: Patient, rule_code: str) -> Visit:
        return Visit.objects.select_related("rule").get(
            patient=patient, rule__code=rule_code
        )


def make_cast() -> DeskCast:
    surgeon = SurgeonFactory.create(given_name="Lucía", family_name="Moreno")
    other = SurgeonFactory.create(given_name="Javier", family_name="Ortega")
    maria = PatientFactory.create(
        record_number="MRN00012", given_name="María", family_name="García López"
    )
    jorge = PatientFactory.create(
        record_number="MRN00020", given_name="Jorge", family_name="Ruiz"
    )
    pilar = PatientFactory.create(
        record_number="MRN00030", given_name="Pilar", family_name="Sanz"
    )
    for patient, operated, by in (
        (maria, dt.date(2026, 11, 20), surgeon),
        (jorge, dt.date(2026, 11, 16), other),
        (pilar, dt.date(2026, 10, 1), surgeon),
    ):
        make_procedure(patient=patient, surgeon=by, surgery_date=operated, today=TODAY)
    return DeskCast(surgeon, other, maria, jorge, pilar)


def book_every_visit_of(patient: Patient) -> None:
    """Books each of the patient's visits in its first free slot: nothing of
    theirs is left to book."""
    for visit in Visit.objects.filter(patient=patient):
        slot = services.propose_slots(visit=visit, now=NOW, limit=1).slots[0]
        services.book_visit(
            visit_id=visit.pk,
            start=slot.start,
            surgeon_id=slot.surgeon_id,
            actor=None,
            now=NOW,
        )


def book_at(visit: Visit, start: str, surgeon: Surgeon) -> Visit:
    """Books `visit` at `start` (ISO, with its offset) with `surgeon`."""
    return services.book_visit(
        visit_id=visit.pk,
        start=dt.datetime.fromisoformat(start),
        surgeon_id=surgeon.pk,
        actor=None,
        now=NOW,
    )


def attempt(visit: Visit, outcome: ContactOutcome, *, days_ago: int) -> None:
    """A phone call about `visit`, `days_ago` days before the pinned clock."""
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=outcome,
        actor=None,
        now=NOW - dt.timedelta(days=days_ago),
    )
