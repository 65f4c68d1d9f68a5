"""The database guarantee: concurrent bookings never double-book (PostgreSQL).

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December
(tests/followup/world.py).
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from followup.exceptions import Conflict
from followup.models import Visit, VisitEvent
from followup.services import booking
from tests.factories import (
    PatientFactory,
    SurgeonFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    SURGERY,
    TEN_O_CLOCK,
    book,
    postop,
    snapshot,
)
from tests.racing import race

pytestmark = pytest.mark.django_db


# --- the database guarantee (PostgreSQL) ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_clerks_booking_one_surgeons_slot_at_once_get_one_booking() -> None:
    surgeon = SurgeonFactory.create()
    visits = [postop(surgeon=surgeon) for _ in range(10)]

    wins, errors = race([functools.partial(book, v, FRIDAY_9) for v in visits])

    assert wins == 1
    assert len(errors) == 9
    assert all(isinstance(e, Conflict) and e.code == "slot_taken" for e in errors)
    assert Visit.objects.filter(surgeon=surgeon, status="booked").count() == 1
    assert VisitEvent.objects.filter(action="booked").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_patient_booked_with_two_surgeons_at_once_gets_one_booking() -> None:
    patient = PatientFactory.create()
    visits = [
        postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=n))
        for n in range(2)
    ]
    assert visits[0].surgeon_id != visits[1].surgeon_id

    wins, errors = race([functools.partial(book, v, FRIDAY_9) for v in visits])

    assert wins == 1
    assert [(type(e), getattr(e, "code", None)) for e in errors] == [
        (Conflict, "slot_taken")
    ]
    assert Visit.objects.filter(patient=patient, status="booked").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_booking_one_visit_at_once_take_turns_on_its_row() -> None:
    visit = postop()

    wins, errors = race(
        [functools.partial(book, visit, start) for start in (FRIDAY_9, TEN_O_CLOCK)]
    )

    assert wins == 1
    assert [(type(e), getattr(e, "code", None)) for e in errors] == [
        (Conflict, "invalid_transition")
    ]
    assert VisitEvent.objects.filter(visit=visit, action="booked").count() == 1


@pytest.mark.postgres
def test_the_database_refuses_overlapping_active_bookings_on_its_own() -> None:
    first = book(postop(), FRIDAY_9)
    visit = postop(surgeon=first.surgeon)

    with (
        pytest.raises(
            IntegrityError, match="visit_no_overlapping_bookings_per_surgeon"
        ),
        transaction.atomic(),
    ):
        Visit.objects.filter(pk=visit.pk).update(
            status="booked",
            start=FRIDAY_9 + dt.timedelta(minutes=10),
            end=FRIDAY_9 + dt.timedelta(minutes=30),
        )
    # Inactive statuses and touching slots are not overlaps.
    Visit.objects.filter(pk=visit.pk).update(
        status="no_show", start=FRIDAY_9, end=FRIDAY_9 + dt.timedelta(minutes=20)
    )
    Visit.objects.filter(pk=visit.pk).update(
        status="booked",
        start=FRIDAY_9 + dt.timedelta(minutes=20),
        end=FRIDAY_9 + dt.timedelta(minutes=40),
    )


@pytest.mark.postgres
def test_a_lost_race_reaching_the_constraint_is_a_conflict(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    first = book(postop(), FRIDAY_9)
    visit = postop(surgeon=first.surgeon)
    before = snapshot(visit)
    # As if the other clerk committed between our check and our write.
    monkeypatch.setattr(booking, "check_free", lambda *args: None)

    with pytest.raises(Conflict, match="Someone booked an overlapping visit") as err:
        book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk)

    assert err.value.code == "slot_taken"
    assert snapshot(visit) == before
