"""When each move may be made, on the clinic's clock (SPEC section 2).

A patient is checked in on the day of their visit, never before and never
after; a no-show is marked once the booked start has passed; completion
follows check-in. A move at the wrong time is a 409 with a stable code and
changes nothing: no row, no event, no calendar update.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from feeds.models import FeedVersion
from followup import services
from followup.exceptions import Conflict
from followup.models import Visit, VisitStatus
from tests.followup.world import FRIDAY_9, book, madrid, postop, snapshot

pytestmark = pytest.mark.django_db


def feed_versions() -> list[tuple[object, ...]]:
    return list(FeedVersion.objects.order_by("pk").values_list())


def refused_at(
    move: str, visit: Visit, now: dt.datetime, desk: User, code: str, text: str
) -> None:
    before, versions = snapshot(visit), feed_versions()
    call = {
        "check_in": services.check_in_visit,
        "no_show": services.mark_no_show,
        "complete": services.complete_visit,
    }[move]

    with pytest.raises(Conflict, match=text) as err:
        call(visit_id=visit.pk, actor=desk, now=now)

    assert err.value.code == code
    assert err.value.status == 409
    assert snapshot(visit) == before
    assert feed_versions() == versions


# --- check-in: on the booking's clinic-local day --------------------------------


@pytest.mark.parametrize(
    "now",
    [
        madrid(2026, 11, 27, 0, 0),  # just after midnight, the same day
        madrid(2026, 11, 27, 8, 30),  # early for a 09:00 visit
        madrid(2026, 11, 27, 13, 0),  # late, but still that day
        madrid(2026, 11, 27, 23, 59),
    ],
    ids=str,
)
def test_a_patient_is_checked_in_on_the_day_of_their_visit(
    now: dt.datetime, front_desk: User
) -> None:
    visit = book(postop(), FRIDAY_9, actor=front_desk)

    services.check_in_visit(visit_id=visit.pk, actor=front_desk, now=now)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CHECKED_IN


@pytest.mark.parametrize(
    ("now", "when"),
    [
        (madrid(2026, 11, 26, 9, 0), "has not come yet"),  # a day early
        (madrid(2026, 11, 26, 23, 59), "has not come yet"),  # a minute before
        (madrid(2026, 11, 28, 9, 0), "has passed"),  # a day late
        (madrid(2026, 11, 28, 0, 0), "has passed"),  # the midnight after
    ],
    ids=str,
)
def test_a_check_in_on_another_day_is_refused_and_changes_nothing(
    now: dt.datetime, when: str, front_desk: User
) -> None:
    visit = book(postop(), FRIDAY_9, actor=front_desk)

    refused_at(
        "check_in",
        visit,
        now,
        front_desk,
        "check_in_not_today",
        f"booked for Fri 2026-11-27 09:00; that day {when}",
    )


# Monday 29 March 2027 follows the spring change (02:00 -> 03:00 on Sunday
# 28 March); Monday 1 November 2027 follows the autumn one (31 October). The
# clinic's day starts at local midnight, which is 22:00 or 23:00 UTC the day
# before: a check-in goes by the clinic's calendar, not by UTC's.
DST_MONDAYS = [
    # (surgery, 09:00 booking, the last moment refused, the first allowed)
    (
        dt.date(2027, 3, 19),
        madrid(2027, 3, 29, 9),
        dt.datetime(2027, 3, 28, 21, 59, tzinfo=dt.UTC),  # 23:59 CEST Sunday
        dt.datetime(2027, 3, 28, 22, 0, tzinfo=dt.UTC),  # 00:00 CEST Monday
    ),
    (
        dt.date(2027, 10, 22),
        madrid(2027, 11, 1, 9),
        dt.datetime(2027, 10, 31, 22, 59, tzinfo=dt.UTC),  # 23:59 CET Sunday
        dt.datetime(2027, 10, 31, 23, 0, tzinfo=dt.UTC),  # 00:00 CET Monday
    ),
]


@pytest.mark.parametrize(("surgery", "start", "refused", "allowed"), DST_MONDAYS)
def test_the_check_in_day_is_the_clinics_across_daylight_saving(
    surgery: dt.date,
    start: dt.datetime,
    refused: dt.datetime,
    allowed: dt.datetime,
    front_desk: User,
) -> None:
    visit = book(postop(surgery_date=surgery), start, actor=front_desk)

    refused_at(
        "check_in", visit, refused, front_desk, "check_in_not_today", "not come yet"
    )
    services.check_in_visit(visit_id=visit.pk, actor=front_desk, now=allowed)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CHECKED_IN


# --- no-show: once the booked start has passed ----------------------------------


@pytest.mark.parametrize(
    "now",
    [FRIDAY_9, FRIDAY_9 + dt.timedelta(minutes=25), madrid(2026, 12, 1, 10)],
    ids=str,
)
def test_a_no_show_is_marked_once_the_start_has_passed(
    now: dt.datetime, front_desk: User
) -> None:
    visit = book(postop(), FRIDAY_9, actor=front_desk)

    services.mark_no_show(visit_id=visit.pk, actor=front_desk, now=now)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.NO_SHOW


@pytest.mark.parametrize(
    "now",
    [
        FRIDAY_9 - dt.timedelta(days=2),  # the booking was two days ahead
        FRIDAY_9 - dt.timedelta(days=1),  # a day early
        FRIDAY_9 - dt.timedelta(minutes=1),
    ],
    ids=str,
)
def test_a_no_show_before_the_start_is_refused_and_changes_nothing(
    now: dt.datetime, front_desk: User
) -> None:
    visit = book(postop(), FRIDAY_9, actor=front_desk)

    refused_at(
        "no_show",
        visit,
        now,
        front_desk,
        "no_show_too_early",
        "starts at Fri 2026-11-27 09:00; it can be marked as a no-show only once",
    )


@pytest.mark.parametrize(("surgery", "start", "_refused", "_allowed"), DST_MONDAYS)
def test_the_no_show_time_is_the_booked_instant_across_daylight_saving(
    surgery: dt.date,
    start: dt.datetime,
    _refused: dt.datetime,
    _allowed: dt.datetime,
    front_desk: User,
) -> None:
    visit = book(postop(surgery_date=surgery), start, actor=front_desk)
    # 08:59 local is an hour off 09:00 in UTC on one side of the change only.
    refused_at(
        "no_show",
        visit,
        start - dt.timedelta(minutes=1),
        front_desk,
        "no_show_too_early",
        "only once that time has passed",
    )

    services.mark_no_show(visit_id=visit.pk, actor=front_desk, now=start)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.NO_SHOW


# --- complete: only after check-in ------------------------------------------------


def test_a_booked_visit_cannot_be_completed_even_on_its_day(front_desk: User) -> None:
    visit = book(postop(), FRIDAY_9, actor=front_desk)

    refused_at(
        "complete",
        visit,
        FRIDAY_9 + dt.timedelta(minutes=20),
        front_desk,
        "invalid_transition",
        "is booked; it cannot be completed",
    )
