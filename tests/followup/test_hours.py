"""Consultation sessions and clinic hours, on the clinic's wall clock.

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December
(tests/followup/world.py).
"""

from __future__ import annotations

import datetime as dt

import hypothesis
import pytest
from django.contrib.auth.models import User
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper

from followup import services
from followup.exceptions import InvalidInput
from followup.models import Visit
from followup.services import hours
from tests.factories import (
    ConsultationSessionFactory,
    SurgeonFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    MADRID,
    NOW,
    TEN_O_CLOCK,
    book,
    madrid,
    postop,
    refused,
)

pytestmark = pytest.mark.django_db


# --- consultation sessions --------------------------------------------------


def test_a_surgeon_with_sessions_is_booked_only_in_them(desk: User) -> None:
    surgeon = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=surgeon,
        weekday=1,
        start_time=dt.time(16),
        end_time=dt.time(19),
        slot_minutes=15,
    )
    visit = postop(surgeon=surgeon)

    refused(
        visit,
        lambda: book(visit, TEN_O_CLOCK, actor=desk),
        InvalidInput,
        "outside_sessions",
        "has no consultation on Monday",
    )
    refused(
        visit,
        lambda: book(visit, madrid(2026, 12, 1, 16, 10), actor=desk),
        InvalidInput,
        "outside_sessions",
        r"Tuesdays \(16:00-19:00 every 15 min\)",
    )
    assert book(visit, madrid(2026, 12, 1, 16, 15), actor=desk).status == "booked"


def test_a_session_applies_only_between_its_valid_dates(desk: User) -> None:
    surgeon = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=4, valid_to=dt.date(2026, 11, 27)
    )
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=0, valid_from=dt.date(2026, 12, 7)
    )
    visit = postop(surgeon=surgeon)

    refused(
        visit,
        lambda: book(visit, TEN_O_CLOCK, actor=desk),
        InvalidInput,
        "outside_sessions",
        "no consultation on Monday",
    )
    assert book(visit, FRIDAY_9, actor=desk).start == FRIDAY_9


# --- daylight saving ----------------------------------------------------------

# Around the last Sundays of March and October 2027 (28 March, 31 October):
# the day, and Madrid's UTC offset on it.
DST_DAYS = [
    (dt.date(2027, 3, 26), 1),
    (dt.date(2027, 3, 27), 1),
    (dt.date(2027, 3, 28), 2),
    (dt.date(2027, 3, 29), 2),
    (dt.date(2027, 10, 29), 2),
    (dt.date(2027, 10, 30), 2),
    (dt.date(2027, 10, 31), 1),
    (dt.date(2027, 11, 1), 1),
]
EVERY_DAY_9_TO_14 = [(day, dt.time(9), dt.time(14), 10) for day in range(7)]


@pytest.mark.parametrize("as_text", [False, True], ids=["aware", "iso-string"])
@pytest.mark.parametrize(("day", "offset"), DST_DAYS, ids=str)
def test_a_nine_oclock_booking_stays_nine_oclock_across_daylight_saving(
    day: dt.date, offset: int, as_text: bool, desk: User, settings: SettingsWrapper
) -> None:
    settings.CLINIC_HOURS = EVERY_DAY_9_TO_14
    visit = postop(surgery_date=day - dt.timedelta(days=10))
    start = dt.datetime.combine(day, dt.time(9), MADRID)

    book(visit, start.isoformat() if as_text else start, actor=desk, now=NOW)

    row = Visit.objects.get(pk=visit.pk)
    assert row.start is not None and row.end is not None
    assert row.start.astimezone(MADRID).time() == dt.time(9)
    assert row.end.astimezone(MADRID).time() == dt.time(9, 20)
    assert row.start.astimezone(dt.UTC).hour == 9 - offset


def test_free_slots_start_at_nine_local_on_both_sides_of_the_change(
    settings: SettingsWrapper,
) -> None:
    settings.CLINIC_HOURS = EVERY_DAY_9_TO_14
    visit = postop(surgery_date=dt.date(2027, 3, 18))  # window 25 Mar - 2 Apr

    starts: dict[dt.date, dt.datetime] = {}
    for slot in services.free_slots(visit=visit, now=madrid(2027, 3, 1, 8), limit=100):
        starts.setdefault(slot.start.date(), slot.start)
    later = services.free_slots(visit=visit, now=madrid(2027, 3, 28, 15), limit=1)

    assert starts[dt.date(2027, 3, 27)].utcoffset() == dt.timedelta(hours=1)
    assert starts[dt.date(2027, 3, 27)].time() == dt.time(9)
    assert later[0].start == madrid(2027, 3, 29, 9)
    assert later[0].start.utcoffset() == dt.timedelta(hours=2)
    assert later[0].end - later[0].start == dt.timedelta(minutes=20)


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    day=st.dates(dt.date(2024, 1, 1), dt.date(2035, 12, 31)),
    opens=st.integers(6 * 60, 15 * 60),
    hours_long=st.integers(1, 6),
    slot=st.sampled_from([5, 10, 15, 20, 30]),
    length=st.sampled_from([10, 20, 30]),
)
@hypothesis.example(
    day=dt.date(2027, 3, 28), opens=6 * 60, hours_long=3, slot=10, length=20
)
@hypothesis.example(
    day=dt.date(2027, 10, 31), opens=6 * 60, hours_long=3, slot=10, length=20
)
def test_the_grid_is_the_same_wall_clock_grid_on_every_day(
    day: dt.date, opens: int, hours_long: int, slot: int, length: int
) -> None:
    start = dt.time(opens // 60, opens % 60)
    end = dt.time(opens // 60 + hours_long, opens % 60)
    block = hours.Hours(weekday=day.weekday(), start=start, end=end, slot_minutes=slot)

    starts = list(hours.grid([block], day, dt.timedelta(minutes=length)))

    walls = [s.astimezone(MADRID).replace(tzinfo=None) for s in starts]
    expected = [
        dt.datetime.combine(day, start) + dt.timedelta(minutes=k * slot)
        for k in range((hours_long * 60 - length) // slot + 1)
    ]
    assert walls == expected
    assert all(s.tzinfo == dt.UTC for s in starts)
    assert all(hours.fits(block, s, s + dt.timedelta(minutes=length)) for s in starts)
