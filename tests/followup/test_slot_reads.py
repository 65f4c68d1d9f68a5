"""The slot search's reads and held time (followup.services.slot_reads,
slots.HeldTime, hours.day_grid): what the booking page's faster search
reads and decides is what the plain one did.

The cast is tests/followup/world.py's: "now" is Wednesday 25 November 2026
in Madrid, a post-operative control's window runs from Friday 27 November.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from hypothesis import given
from hypothesis import strategies as st

from clinic.clock import clinic_zone, start_of_day
from followup.models import Visit, VisitStatus
from followup.services import slot_reads
from followup.services.hours import Hours, day_grid, grid
from followup.services.slots import HeldTime
from tests.factories import ConsultationSessionFactory
from tests.followup.world import (
    FRIDAY_9,
    book,
    madrid,
    other_postop,
    postop,
    surgeon_of,
)

FRIDAY = dt.date(2026, 11, 27)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_prepared_reads_find_what_the_orm_finds(desk: User) -> None:
    visit = postop()
    surgeon = visit.surgeon
    assert surgeon is not None
    book(visit, FRIDAY_9, actor=desk)  # the visit's own booking: not held
    colleague = book(postop(surgeon=surgeon), madrid(2026, 11, 27, 10), actor=desk)
    own_other = book(
        other_postop(visit.patient), madrid(2026, 11, 30, 11), actor=desk
    )  # the patient's, with another surgeon
    book(postop(), madrid(2026, 11, 27, 12), actor=desk)  # neither's
    book(
        postop(surgeon=surgeon), madrid(2026, 12, 2, 9), actor=desk
    )  # after the days read

    # Other states, and the range's edges, as a data fix would leave them.
    completed = _set(
        book(postop(surgeon=surgeon), madrid(2026, 11, 27, 11), actor=desk),
        status=VisitStatus.COMPLETED,
    )
    checked_in = _set(
        book(postop(surgeon=surgeon), madrid(2026, 11, 27, 11, 30), actor=desk),
        status=VisitStatus.CHECKED_IN,
    )
    for minute, status in ((0, VisitStatus.NO_SHOW), (30, VisitStatus.CANCELLED)):
        stays = book(
            postop(surgeon=surgeon), madrid(2026, 11, 27, 13, minute), actor=desk
        )
        _set(stays, status=status)  # keeps its times, holds nothing
    before = start_of_day(FRIDAY)
    after = start_of_day(dt.date(2026, 12, 1))
    twenty = dt.timedelta(minutes=20)
    for start in (before - twenty, after):  # ends as the days start; starts after
        edge = book(postop(surgeon=surgeon), madrid(2026, 11, 30, 12), actor=desk)
        _set(edge, start=start, end=start + twenty)

    # Sessions after the bookings, which the clinic's hours allowed.
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=4, start_time=dt.time(15), end_time=dt.time(18)
    )
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=0, valid_from=FRIDAY, valid_to=dt.date(2027, 1, 1)
    )
    ConsultationSessionFactory.create(weekday=4)  # another surgeon's

    reads = {
        "surgeon_id": surgeon.pk,
        "patient_id": visit.patient_id,
        "visit_id": visit.pk,
        "range_start": before,
        "range_end": after,  # Fri to Mon
    }
    held = slot_reads.held(**reads)  # type: ignore[arg-type]

    assert sorted(held) == sorted(
        (booked.start, booked.end)
        for booked in (colleague, own_other, completed, checked_in)
    )
    assert sorted(held) == sorted(slot_reads._held_portable(**reads))  # type: ignore[arg-type]
    sessions = slot_reads.sessions(surgeon.pk)
    assert [row[:2] for row in sessions] == [(0, dt.time(9)), (4, dt.time(15))]
    assert sessions == slot_reads._sessions_portable(surgeon.pk)
    assert slot_reads.sessions(surgeon_of(own_other) + 10_000) == []


def _set(visit: Visit, **fields: object) -> Visit:
    Visit.objects.filter(pk=visit.pk).update(**fields)
    visit.refresh_from_db()
    return visit


_MINUTES = st.integers(min_value=0, max_value=600)
_SPAN = st.integers(min_value=1, max_value=90)
_BASE = dt.datetime(2026, 11, 27, 8, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return _BASE + dt.timedelta(minutes=minutes)


@given(
    held=st.lists(st.tuples(_MINUTES, _SPAN), max_size=25),
    start=_MINUTES,
    length=_SPAN,
)
def test_held_time_meets_a_slot_exactly_when_some_booking_does(
    held: list[tuple[int, int]], start: int, length: int
) -> None:
    intervals = [(_at(begin), _at(begin + span)) for begin, span in held]
    slot_start, slot_end = _at(start), _at(start + length)

    meets = HeldTime(intervals).overlaps(slot_start, slot_end)

    assert meets == any(b < slot_end and slot_start < e for b, e in intervals)


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 3, 29),  # clocks go forward in Madrid
        dt.date(2026, 10, 25),  # and back
        dt.date(2026, 11, 27),
    ],
)
def test_a_kept_day_grid_is_the_grid_with_its_clinic_times(day: dt.date) -> None:
    hours = (
        Hours(weekday=day.weekday(), start=dt.time(1), end=dt.time(4), slot_minutes=30),
        Hours(
            weekday=day.weekday(), start=dt.time(9), end=dt.time(11), slot_minutes=20
        ),
    )
    length = dt.timedelta(minutes=20)
    zone = clinic_zone()

    kept = day_grid(hours, day, length, zone)

    starts = list(grid(hours, day, length))
    assert [utc for utc, _, _ in kept] == starts
    assert [(local, end) for _, local, end in kept] == [
        (start.astimezone(zone), (start + length).astimezone(zone)) for start in starts
    ]
