"""The API's cast and world: a pinned clock, a client per role, seeded data.

"Now" is Wednesday 2026-11-25 10:00 in Madrid. Surgeon A operated patient A
(a stem-cell procedure on 2026-11-20: post-op window 27 Nov - 5 Dec, so
bookable on Friday 27 Nov at 09:00 in the default clinic hours); surgeon B
operated patient B the same day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup.models import Visit, VisitStatus
from tests.factories import PatientFactory, UserFactory, make_procedure

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=MADRID)
TODAY = NOW.date()
SURGERY = dt.date(2026, 11, 20)
# Friday, inside the post-op window and the default clinic hours.
FREE_SLOT = dt.datetime(2026, 11, 27, 9, 0, tzinfo=MADRID)
# An hour before "now", today: a booking the patient can be checked in for,
# or marked a no-show.
EARLIER_TODAY = NOW - dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    # Throttle counters live in the cache; one test's requests must not
    # count against the next.
    cache.clear()


@dataclass
class World:
    patient_a: Patient
    procedure_a: Procedure
    visit_a: Visit  # surgeon A's patient's post-op control, to book
    patient_b: Patient
    procedure_b: Procedure
    visit_b: Visit


def postop(procedure: Procedure) -> Visit:
    return Visit.objects.get(procedure=procedure, rule__code="postop_control")


@pytest.fixture
def world(surgeon_a: Surgeon, surgeon_b: Surgeon) -> World:
    patient_a = PatientFactory.create(given_name="Ana", family_name="Abad")
    patient_b = PatientFactory.create(given_name="Berta", family_name="Bravo")
    procedure_a = make_procedure(
        patient=patient_a,
        surgeon=surgeon_a,
        surgery_date=SURGERY,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        today=TODAY,
    )
    procedure_b = make_procedure(
        patient=patient_b, surgeon=surgeon_b, surgery_date=SURGERY, today=TODAY
    )
    return World(
        patient_a=patient_a,
        procedure_a=procedure_a,
        visit_a=postop(procedure_a),
        patient_b=patient_b,
        procedure_b=procedure_b,
        visit_b=postop(procedure_b),
    )


def put_in_state(visit: Visit, status: str, start: dt.datetime = FREE_SLOT) -> Visit:
    """Give a visit a status directly, with a slot where the status holds one."""
    fields: dict[str, object] = {"status": status}
    if status != VisitStatus.TO_BOOK:
        fields.update(
            start=start,
            end=start + dt.timedelta(minutes=visit.duration_minutes),
            surgeon_id=visit.procedure.surgeon_id,
        )
    Visit.objects.filter(pk=visit.pk).update(**fields)
    visit.refresh_from_db()
    return visit


@pytest.fixture
def users(
    front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon, clinic_admin: User
) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "front_desk": front_desk,
        "surgeon_a": surgeon_a.user,
        "surgeon_b": surgeon_b.user,
        "clinic_admin": clinic_admin,
    }


@pytest.fixture
def client_for(users: dict[str, User | None]) -> Callable[[str], APIClient]:
    """An API client signed in (by session) as the named role."""

    def make(role: str) -> APIClient:
        client = APIClient()
        user = users[role]
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def desk(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("front_desk")


@pytest.fixture
def nobody() -> User:
    """Signed in, but in no clinic group."""
    return UserFactory.create(username="nobody")
