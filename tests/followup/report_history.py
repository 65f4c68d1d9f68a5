"""A fixed, hand-built history for the follow-up figures (followup/reports.py).

Every procedure is operated on Thursday 1 October 2026, so every
post-operative control has the same window: Thursday 8 to Friday 16
October (due 11 October). The clinic consults Monday to Friday 09:00-14:00.
Every change goes through the services with its own clock.

Surgeon A (Ana) operated visits 1-10, surgeon B (Bruno) 11-18. Visit 14 is
B's patient booked with A, so it falls in A's row. First booking date
minus 8 October gives "days from window open to booking".

Columns: row; history; bucket; delay; contacted by 16 Oct (C); called
(K); back within 15 days of the first call (R).

| # | row | history | bucket | delay | C | K | R |
|---|-----|---------|--------|-------|---|---|---|
| 1 | A | booked 5/10 for 8/10, completed | in window | -3 | y | n | - |
| 2 | A | no answer 9/10; booked 12/10 for 13/10, done | in window | 4 | y | y | y |
| 3 | A | no answer 20/10; booked 22/10 for 26/10, done | late | 14 | n | y | y |
| 4 | A | no answer 10, 13, 17/10 | lost (unreachable) | - | y | y | n |
| 5 | A | declined 9/10 | lost | - | y | y | n |
| 6 | A | nothing | open | - | n | n | - |
| 7 | A | booked 6/10 for 9/10, no-show | open | -2 | y | n | - |
| 8 | - | procedure entered in error | left out | | | | |
| 9 | A | will book 2/10; booked 20/10 for 21/10 | open | 12 | y | y | n (18 d) |
| 10 | A | cancelled by hand 10/10 | lost | - | n | n | - |
| 11 | B | booked 7/10 for 14/10, completed | in window | -1 | y | n | - |
| 12 | B | booked 8/10 for 15/10, completed | in window | 0 | y | n | - |
| 13 | B | moved away 12/10 | lost | - | y | y | n |
| 14 | A | B's patient booked with A 7/10 for 9/10, done | in window | -1 | y | n | - |
| 15 | - | procedure cancelled | left out | | | | |
| 16 | B | no answer 14/10, message 15/10 (2 < 3) | open | - | y | y | n |
| 17 | B | no answer 9, 10, 11/10; booked 12/10 for 16/10 | open | 4 | y | y | y |
| 18 | B | booked 5/10 for 16/10; message 14/10; done | in window | -3 | y | y | y |

Each procedure's one-month control (window 25 October to 8 November) lies
outside a report to 16 October.

Each rate's 95 % Wilson interval (followup/stats.py), worked out by hand
from x out of n: centre (p + z^2/2n) / (1 + z^2/n), half-width
z / (1 + z^2/n) x sqrt(p(1 - p)/n + z^2/4n^2), z = 1.96, in percent with
one decimal: 3/10 10.8-60.3, 7/10 39.7-89.2, 2/5 11.8-76.9, 3/6
18.8-81.2, 6/6 61.0-100, 2/4 15.0-85.0, 6/16 18.5-61.4, 13/16 57.0-93.4,
4/9 18.9-73.3.

No patient agreed to messages, so none was sent (the messaging figures):
booked (booked, checked in, seen or missed) A 1, 2, 3, 7, 9, 14; B 11, 12,
17, 18, none confirmed (0/6 0-39.0, 0/4 0-49.0, 0/10 0-27.8); seen or
missed without a reminder A 1, 2, 3, 7, 14 (7 missed: 1/5, 3.6-62.4); B
11, 12, 18 (0/3, 0-56.1); in all 1/8 (12.5 %, 2.2-47.1).

The booking-link figures (booking_links/figures.py): bookings A 6 (1, 2,
3, 7, 9, 14), B 4 (11, 12, 17, 18), none by the patient's link (0/6, 0/4,
0/10, as above). The freed-slot figures (offers/figures.py): no booked time
was given back ahead of time (visit 7's no-show frees a slot already
begun), so none freed, none refilled, no median.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.contrib.auth.models import User

from clinic.models import Surgeon
from followup import services
from followup.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Visit,
    VisitEvent,
    VisitStatus,
)
from tests.factories import make_procedure

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
SURGERY = dt.date(2026, 10, 1)
FROM = dt.date(2026, 10, 1)
TO = dt.date(2026, 10, 16)
TODAY = dt.date(2026, 11, 25)


def at(day: int, hour: int = 10, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MADRID)


@dataclass
class History:
    visits: dict[int, Visit]
    surgeon_a: Surgeon
    surgeon_b: Surgeon


def build_history(*, desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    visits: dict[int, Visit] = {}
    procedures = {}
    for number in range(1, 19):
        operated_by = surgeon_a if number <= 10 else surgeon_b
        procedure = make_procedure(
            surgery_date=SURGERY, surgeon=operated_by, today=SURGERY
        )
        procedures[number] = procedure
        visits[number] = Visit.objects.get(
            procedure=procedure, rule__code="postop_control"
        )

    def book(number: int, when: dt.datetime, start: dt.datetime, who: Surgeon) -> None:
        services.book_visit(
            visit_id=visits[number].pk,
            start=start,
            surgeon_id=who.pk,
            actor=desk,
            now=when,
        )

    def see(number: int, start: dt.datetime) -> None:
        later = start + dt.timedelta(minutes=5)
        services.check_in_visit(visit_id=visits[number].pk, actor=desk, now=later)
        services.complete_visit(visit_id=visits[number].pk, actor=desk, now=later)

    def call(number: int, outcome: str, when: dt.datetime) -> None:
        services.record_contact_attempt(
            visit_id=visits[number].pk,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome(outcome),
            actor=desk,
            now=when,
        )

    a, b = surgeon_a, surgeon_b
    book(1, at(5), at(8, 9), a)
    see(1, at(8, 9))

    call(2, "no_answer", at(9))
    book(2, at(12), at(13, 9), a)
    see(2, at(13, 9))

    call(3, "no_answer", at(20))
    book(3, at(22), at(26, 9), a)
    see(3, at(26, 9))

    for day in (10, 13, 17):
        call(4, "no_answer", at(day))

    call(5, "declined", at(9))

    book(7, at(6), at(9, 9), a)
    services.mark_no_show(visit_id=visits[7].pk, actor=desk, now=at(9, 10))

    services.cancel_procedure(
        procedure_id=procedures[8].pk,
        reason="Registered twice",
        entered_in_error=True,
        actor=desk,
    )

    call(9, "will_book", at(2))
    book(9, at(20), at(21, 9), a)

    services.cancel_visit(
        visit_id=visits[10].pk, reason="Seen elsewhere", actor=desk, now=at(10)
    )

    book(11, at(7), at(14, 9), b)
    see(11, at(14, 9))

    book(12, at(8), at(15, 9), b)
    see(12, at(15, 9))

    call(13, "moved_away", at(12))

    book(14, at(7), at(9, 10), a)
    see(14, at(9, 10))

    services.cancel_procedure(
        procedure_id=procedures[15].pk, reason="Surgery not done", actor=desk
    )

    call(16, "no_answer", at(14))
    call(16, "left_message", at(15))

    for day in (9, 10, 11):
        call(17, "no_answer", at(day))
    book(17, at(12), at(16, 9), b)

    book(18, at(5), at(16, 10), b)
    call(18, "left_message", at(14))
    see(18, at(16, 10))

    return History(visits=visits, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


ROW_A = {
    "due": 10,
    "completed_in_window": 3,
    "completed_late": 1,
    "lost": 3,
    "open": 3,
    "pct_in_window": 30.0,
    "pct_in_window_ci_low": 10.8,
    "pct_in_window_ci_high": 60.3,
    # -3, -2, -1, 4, 12, 14
    "median_days_window_open_to_booking": 1.5,
    "pct_contacted_before_close": 70.0,
    "pct_contacted_before_close_ci_low": 39.7,
    "pct_contacted_before_close_ci_high": 89.2,
    # 2 of 5 called
    "pct_returned_within_15_days_of_first_call": 40.0,
    "pct_returned_within_15_days_of_first_call_ci_low": 11.8,
    "pct_returned_within_15_days_of_first_call_ci_high": 76.9,
}
ROW_B = {
    "due": 6,
    "completed_in_window": 3,
    "completed_late": 0,
    "lost": 1,
    "open": 2,
    "pct_in_window": 50.0,
    "pct_in_window_ci_low": 18.8,
    "pct_in_window_ci_high": 81.2,
    # -3, -1, 0, 4
    "median_days_window_open_to_booking": -0.5,
    "pct_contacted_before_close": 100.0,
    "pct_contacted_before_close_ci_low": 61.0,
    "pct_contacted_before_close_ci_high": 100.0,
    # 2 of 4 called
    "pct_returned_within_15_days_of_first_call": 50.0,
    "pct_returned_within_15_days_of_first_call_ci_low": 15.0,
    "pct_returned_within_15_days_of_first_call_ci_high": 85.0,
}
TOTALS = {
    "due": 16,
    "completed_in_window": 6,
    "completed_late": 1,
    "lost": 4,
    "open": 5,
    "pct_in_window": 37.5,
    "pct_in_window_ci_low": 18.5,
    "pct_in_window_ci_high": 61.4,
    # -3, -3, -2, -1, -1, 0, 4, 4, 12, 14
    "median_days_window_open_to_booking": -0.5,
    # 13 / 16 = 81.25, halves rounded up
    "pct_contacted_before_close": 81.3,
    "pct_contacted_before_close_ci_low": 57.0,
    "pct_contacted_before_close_ci_high": 93.4,
    # 4 / 9 = 44.44
    "pct_returned_within_15_days_of_first_call": 44.4,
    "pct_returned_within_15_days_of_first_call_ci_low": 18.9,
    "pct_returned_within_15_days_of_first_call_ci_high": 73.3,
}


def grow(surgeon: Surgeon, visits: int) -> None:
    """`visits` more post-op controls in October 2026, in bulk: a third
    completed, a third to book after three failed calls, a third cancelled."""
    procedure = make_procedure(
        surgery_date=dt.date(2026, 10, 1), surgeon=surgeon, today=dt.date(2026, 10, 1)
    )
    template = Visit.objects.get(procedure=procedure, rule__code="postop_control")
    base = Visit.objects.filter(procedure=procedure).count() + 100
    # Slots after every visit made so far: bookings never overlap.
    start = dt.datetime(2026, 10, 9, 8, tzinfo=dt.UTC) + dt.timedelta(
        minutes=20 * Visit.objects.count()
    )
    made = Visit.objects.bulk_create(
        Visit(
            procedure=procedure,
            patient=template.patient,
            rule=template.rule,
            occurrence=base + n,
            due_date=template.due_date,
            window_start=template.window_start,
            window_end=template.window_end,
            duration_minutes=20,
            status=(VisitStatus.COMPLETED, VisitStatus.TO_BOOK, VisitStatus.CANCELLED)[
                n % 3
            ],
            start=start + dt.timedelta(minutes=20 * n) if n % 3 == 0 else None,
            end=start + dt.timedelta(minutes=20 * n + 20) if n % 3 == 0 else None,
            surgeon=surgeon if n % 3 == 0 else None,
        )
        for n in range(visits)
    )
    VisitEvent.objects.bulk_create(
        VisitEvent(visit=v, action="booked", to_status="booked", at=start)
        for v in made[::3]
    )
    ContactAttempt.objects.bulk_create(
        ContactAttempt(visit=v, channel="phone", outcome="no_answer", at=start)
        for v in made[1::3]
        for _ in range(3)
    )


def _rate(
    name: str, pct: float | None, low: float | None, high: float | None
) -> dict[str, float | None]:
    return {name: pct, f"{name}_ci_low": low, f"{name}_ci_high": high}


def _messaging(
    booked: int,
    confirmed: tuple[float, float, float],
    unreminded: int,
    missed: tuple[float, float, float],
) -> dict[str, object]:
    return {
        "booked_visits": booked,
        **_rate("pct_confirmed", *confirmed),
        "reminded_visits": 0,
        **_rate("pct_no_show_with_reminder", None, None, None),
        "unreminded_visits": unreminded,
        **_rate("pct_no_show_without_reminder", *missed),
        "messaged_overdue": 0,
        **_rate("pct_returned_within_15_days_of_first_message", None, None, None),
    }


# The messaging figures of the same history (messaging/figures.py).
MESSAGING_A = _messaging(6, (0.0, 0.0, 39.0), 5, (20.0, 3.6, 62.4))
MESSAGING_B = _messaging(4, (0.0, 0.0, 49.0), 3, (0.0, 0.0, 56.1))
MESSAGING_TOTALS = _messaging(10, (0.0, 0.0, 27.8), 8, (12.5, 2.2, 47.1))


def _links(bookings: int, share: tuple[float, float, float]) -> dict[str, object]:
    return {"bookings": bookings, **_rate("pct_booked_by_patient", *share)}


# The booking-link and freed-slot figures of the same history
# (booking_links/figures.py, offers/figures.py).
LINKS_A = _links(6, (0.0, 0.0, 39.0))
LINKS_B = _links(4, (0.0, 0.0, 49.0))
LINKS_TOTALS = _links(10, (0.0, 0.0, 27.8))
FREED = {"freed_slots": 0, "refilled_slots": 0, "median_hours_to_refill": None}
