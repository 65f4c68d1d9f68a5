"""The free slots proposed for a visit.

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December
(tests/followup/world.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import Visit
from tests.factories import (
    ConsultationSessionFactory,
    PatientFactory,
    SurgeonFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    NOW,
    SURGERY,
    book,
    bring_to,
    madrid,
    postop,
    surgeon_of,
)

pytestmark = pytest.mark.django_db


# --- free slots -----------------------------------------------------------------


def test_free_slots_follow_the_grid_inside_the_window_after_now() -> None:
    visit = postop()

    slots = services.free_slots(visit=visit, now=NOW, limit=3)

    assert [(s.start, s.end, s.surgeon_id) for s in slots] == [
        (start, start + dt.timedelta(minutes=20), visit.surgeon_id)
        for start in (
            FRIDAY_9,
            madrid(2026, 11, 27, 9, 10),
            madrid(2026, 11, 27, 9, 20),
        )
    ]


def test_free_slots_skip_the_surgeons_and_the_patients_booked_time(desk: User) -> None:
    patient = PatientFactory.create()
    visit = postop(patient=patient)
    book(postop(surgeon=visit.surgeon), FRIDAY_9, actor=desk)  # 09:00-09:20
    elsewhere = postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=1))
    book(elsewhere, madrid(2026, 11, 27, 9, 30), actor=desk)  # 09:30-09:50

    starts = [
        s.start.time() for s in services.free_slots(visit=visit, now=NOW, limit=3)
    ]

    assert starts == [dt.time(9, 50), dt.time(10), dt.time(10, 10)]


def test_free_slots_start_after_now_and_after_from() -> None:
    visit = postop()

    today = services.free_slots(visit=visit, now=madrid(2026, 11, 27, 10, 5), limit=1)
    later = services.free_slots(
        visit=visit, now=NOW, after=madrid(2026, 12, 2, 13, 41), limit=2
    )

    assert today[0].start == madrid(2026, 11, 27, 10, 10)
    # 13:50 + 20 minutes would end after the 14:00 session end.
    assert [s.start for s in later] == [
        madrid(2026, 12, 3, 9),
        madrid(2026, 12, 3, 9, 10),
    ]


def test_free_slots_end_with_the_window() -> None:
    visit = postop()

    assert services.free_slots(visit=visit, now=madrid(2026, 12, 5, 8)) == []
    last = services.free_slots(visit=visit, now=madrid(2026, 12, 4, 13, 31))
    assert [s.start for s in last] == [madrid(2026, 12, 4, 13, 40)]


def test_free_slots_until_a_day_stop_at_its_end() -> None:
    visit = postop()

    monday = services.free_slots(
        visit=visit,
        now=NOW,
        after=madrid(2026, 11, 30, 0),
        limit=100,
        until=dt.date(2026, 11, 30),
    )

    assert {s.start.date() for s in monday} == {dt.date(2026, 11, 30)}
    assert monday[0].start == madrid(2026, 11, 30, 9)
    assert monday[-1].start == madrid(2026, 11, 30, 13, 40)


def test_slots_until_a_day_without_sessions_say_so_with_the_days() -> None:
    visit = postop()

    found = services.propose_slots(
        visit=visit, now=NOW, after=madrid(2026, 11, 28, 0), until=dt.date(2026, 11, 28)
    )

    assert found.slots == []
    assert found.why == "no_sessions"
    assert (found.first_day, found.last_day) == (dt.date(2026, 11, 28),) * 2


def test_slot_days_are_the_rest_of_the_window_or_the_late_range() -> None:
    visit = postop()

    assert services.slot_days(visit, NOW) == (
        dt.date(2026, 11, 27),
        dt.date(2026, 12, 5),
        False,
    )
    overdue = madrid(2026, 12, 10, 8)
    assert services.slot_days(visit, overdue) == (
        dt.date(2026, 12, 10),
        dt.date(2027, 1, 8),
        True,
    )


def test_a_visit_booked_late_is_offered_late_slots_to_move_to(desk: User) -> None:
    # The patient phones about a visit booked after its window: the
    # reschedule panel offered no slot ("the window has closed"), though
    # moving it to a later time needs no override.
    overdue = madrid(2026, 12, 10, 8)
    visit = book(postop(), madrid(2026, 12, 10, 9), actor=desk, now=overdue)

    found = services.propose_slots(visit=visit, now=overdue, limit=3)

    # Its own time is not held against it, as for any booking moved.
    assert [slot.start for slot in found.slots] == [
        madrid(2026, 12, 10, 9),
        madrid(2026, 12, 10, 9, 10),
        madrid(2026, 12, 10, 9, 20),
    ]
    assert all(slot.late for slot in found.slots)
    moved = services.reschedule_visit(
        visit_id=visit.pk,
        start=found.slots[-1].start,
        surgeon_id=surgeon_of(visit),
        actor=desk,
        now=overdue,
    )
    assert moved.start == madrid(2026, 12, 10, 9, 20)


def test_free_slots_of_another_surgeon_use_their_sessions() -> None:
    visit = postop()
    other = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=other, weekday=1, start_time=dt.time(16), end_time=dt.time(17)
    )

    slots = services.free_slots(visit=visit, now=NOW, limit=100, surgeon_id=other.pk)

    assert slots[0] == services.Slot(
        madrid(2026, 12, 1, 16), madrid(2026, 12, 1, 16, 20), other.pk
    )
    assert len(slots) == 5  # 16:00 to 16:40 on the only Tuesday of the window


def test_every_proposed_slot_can_be_booked(desk: User) -> None:
    visit = postop()
    for slot in services.free_slots(visit=visit, now=NOW, limit=20)[::4]:
        other = postop(surgeon=visit.surgeon)

        booked = book(other, slot.start, actor=desk, surgeon=None)

        assert (booked.start, booked.end) == (slot.start, slot.end)
    taken = {s.start for s in services.free_slots(visit=visit, now=NOW, limit=20)}
    assert not taken & {v.start for v in Visit.objects.filter(status="booked")}


def test_free_slots_take_three_queries_whatever_the_bookings(
    desk: User, django_assert_num_queries: Any
) -> None:
    visit = postop()
    for minute in range(0, 300, 20):
        book(postop(surgeon=visit.surgeon), FRIDAY_9 + dt.timedelta(minutes=minute))

    fresh = Visit.objects.get(pk=visit.pk)
    with django_assert_num_queries(3):
        slots = services.free_slots(visit=fresh, now=NOW, limit=100)

    assert len(slots) == 100
    # A visit read with its surgeon (the booking page's) spares reading them.
    loaded = Visit.objects.select_related("surgeon").get(pk=visit.pk)
    with django_assert_num_queries(2):
        assert services.free_slots(visit=loaded, now=NOW, limit=100) == slots


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"]
)
def test_free_slots_refuse_a_time_out_of_range(moment: str) -> None:
    with pytest.raises(InvalidInput, match=r"from .* is out of range"):
        services.free_slots(
            visit=postop(), now=NOW, after=dt.datetime.fromisoformat(moment)
        )


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_free_slots_refuse_a_silly_limit(limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit must be a whole number from 1 to"):
        services.free_slots(visit=postop(), now=NOW, limit=limit)


def test_free_slots_of_a_finished_visit_are_refused(desk: User) -> None:
    visit = bring_to("completed", postop(), desk)

    with pytest.raises(Conflict, match="is completed; it cannot be booked"):
        services.free_slots(visit=visit, now=NOW)
