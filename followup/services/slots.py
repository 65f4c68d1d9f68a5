"""Proposed slots: the next free times a visit can be booked into.

Inside the visit's window, on the surgeon's session grid, skipping the time
held by that surgeon's and that patient's bookings (`SLOT_HOLDING_STATUSES`).
For an overdue visit (window closed, still to book or a no-show) the
earliest free slots from now over `LATE_BOOKING_DAYS`, each marked `late`:
booking one needs no override (`followup.services.booking`). The same for
a booked visit whose window has closed (a late booking the patient asks to
move): every time after the window is late. Every proposed slot passes
every booking control. An empty answer says why.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from clinic.clock import clinic_zone, local, start_of_day
from clinic.models import Procedure, Surgeon
from followup.exceptions import Conflict, InvalidInput
from followup.models import (
    AWAITING_BOOKING_STATUSES,
    Visit,
    VisitStatus,
)
from followup.services import slot_reads
from followup.services.booking_checks import bookable_surgeon, window_closed
from followup.services.hours import day_grid, hours_of
from followup.services.moves import BOOKABLE_STATUSES
from followup.services.parsing import require_aware

MAX_SLOTS = 100
# How far ahead late slots are proposed for an overdue visit.
LATE_BOOKING_DAYS = 30
# Whose slots after a closed window are late ones: those waiting for a slot
# and those booked (to reschedule), as `check_window` books them.
LATE_STATUSES = (*AWAITING_BOOKING_STATUSES, VisitStatus.BOOKED)


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    surgeon_id: int
    late: bool = False  # after the visit's window: an overdue visit booked late


def _slot_range(
    visit: Visit, earliest: dt.datetime, now: dt.datetime
) -> tuple[dt.date, dt.date, bool]:
    """The days to search: the window, or from now on for an overdue visit
    or a booking to move after a closed window."""
    first_day = local(earliest).date()
    if visit.status in LATE_STATUSES and window_closed(visit, now):
        return first_day, first_day + dt.timedelta(days=LATE_BOOKING_DAYS - 1), True
    return max(visit.window_start, first_day), visit.window_end, False


def slot_days(visit: Visit, now: dt.datetime) -> tuple[dt.date, dt.date, bool]:
    """The days a slot can be proposed on from `now`: the rest of the window,
    or for an overdue visit the next `LATE_BOOKING_DAYS` (late); first after
    last when the window has passed and the visit is not overdue."""
    return _slot_range(visit, now, now)


def free_slots(
    *,
    visit: Visit,
    now: dt.datetime,
    after: dt.datetime | None = None,
    limit: int = 10,
    surgeon_id: int | None = None,
    until: dt.date | None = None,
) -> list[Slot]:
    """The next free slots of the visit's length, soonest first.

    Inside the visit's window; for an overdue visit (window closed, still to
    book or a no-show) the earliest from now over `LATE_BOOKING_DAYS`, each
    marked `late`. On the surgeon's session grid (default: the visit's
    surgeon), not before `now` nor `after`, skipping the time held by that
    surgeon's and that patient's bookings; not after the day `until` when
    given (with `after` at its start: that day's slots). Three queries
    whatever the range. Booking a proposed slot passes every control.
    """
    return propose_slots(
        visit=visit,
        now=now,
        after=after,
        limit=limit,
        surgeon_id=surgeon_id,
        until=until,
    ).slots


@dataclass(frozen=True)
class SlotSearch:
    """Proposed slots, and why there are none when the list is empty."""

    slots: list[Slot]
    detail: str = ""
    # Why there are none, for a page to word: "window_passed", "no_sessions"
    # or "all_taken"; the days searched, and whose slots.
    why: str = ""
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    late: bool = False
    surgeon: str = ""


def propose_slots(
    *,
    visit: Visit,
    now: dt.datetime,
    after: dt.datetime | None = None,
    limit: int = 10,
    surgeon_id: int | None = None,
    until: dt.date | None = None,
) -> SlotSearch:
    """`free_slots`, with a sentence a clerk can act on when there are none."""
    _check_limit(limit)
    now = require_aware(now, field_name="now")
    earliest = now
    if after is not None:
        earliest = max(earliest, require_aware(after, field_name="from"))
    if visit.status not in BOOKABLE_STATUSES:
        status = VisitStatus(visit.status).label.lower()
        raise Conflict(
            f"Visit {visit.pk} is {status}; it cannot be booked.",
            code="invalid_transition",
            params={"status": status, "verb": "booked"},
        )
    chosen = surgeon_id if surgeon_id is not None else visit.surgeon_id
    if chosen is None:
        chosen = visit.procedure.surgeon_id
    surgeon = _loaded_surgeon(visit, chosen) or bookable_surgeon(chosen)
    first_day, last_day, late = _slot_range(visit, earliest, now)
    if until is not None:
        last_day = min(last_day, until)
    if first_day > last_day:
        detail = (
            f"The visit's booking window closes on {visit.window_end}, before "
            f"{first_day}; ask for slots from an earlier date."
        )
        return SlotSearch([], detail, "window_passed", first_day, last_day, late)
    slots, consults = _free_in_range(
        visit, surgeon, first_day, last_day, earliest=earliest, limit=limit
    )
    if slots:
        return SlotSearch(slots)
    detail = _why_none(surgeon, first_day, last_day, late, consults)
    why = "all_taken" if consults else "no_sessions"
    return SlotSearch([], detail, why, first_day, last_day, late, str(surgeon))


def _loaded_surgeon(visit: Visit, chosen: int) -> Surgeon | None:
    """The chosen surgeon when the visit came with them loaded (its own
    surgeon, or its procedure's) and they are bookable: no second read.
    None otherwise: `bookable_surgeon` reads them, or says why not."""
    loaded = []
    if Visit.surgeon.is_cached(visit):
        loaded.append(visit.surgeon)
    if Visit.procedure.is_cached(visit) and Procedure.surgeon.is_cached(
        visit.procedure
    ):
        loaded.append(visit.procedure.surgeon)
    for surgeon in loaded:
        if surgeon is not None and surgeon.pk == chosen and surgeon.active:
            return surgeon
    return None


def _check_limit(limit: int) -> None:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_SLOTS
    ):
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_SLOTS}.", code="invalid_limit"
        )


class HeldTime:
    """Held time as disjoint intervals, soonest first: whether a slot meets
    one is a bisection, not a look at every booking of the surgeon's."""

    def __init__(self, held: list[tuple[dt.datetime, dt.datetime]]) -> None:
        merged: list[list[dt.datetime]] = []
        for start, end in sorted(held):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _ in merged]
        self.ends = [end for _, end in merged]

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end) meets held time."""
        last = bisect.bisect_left(self.starts, end) - 1
        return last >= 0 and self.ends[last] > start


def _busy(
    visit: Visit, surgeon: Surgeon, first_day: dt.date, last_day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The slots held by the surgeon or the patient over these days."""
    return slot_reads.held(
        surgeon_id=surgeon.pk,
        patient_id=visit.patient_id,
        visit_id=visit.pk,
        range_start=start_of_day(first_day),
        range_end=start_of_day(last_day + dt.timedelta(days=1)),
    )


def _free_in_range(
    visit: Visit,
    surgeon: Surgeon,
    first_day: dt.date,
    last_day: dt.date,
    *,
    earliest: dt.datetime,
    limit: int,
) -> tuple[list[Slot], bool]:
    """Up to `limit` free slots, and whether the surgeon consults at all
    over these days."""
    hours = tuple(hours_of(surgeon.pk))
    busy = HeldTime(_busy(visit, surgeon, first_day, last_day))
    length = dt.timedelta(minutes=visit.duration_minutes)
    zone = clinic_zone()
    slots: list[Slot] = []
    consults = False
    day = first_day
    while day <= last_day and len(slots) < limit:
        for start, local_start, local_end in day_grid(hours, day, length, zone):
            consults = True
            end = start + length
            if start < earliest or busy.overlaps(start, end):
                continue
            slots.append(
                Slot(
                    start=local_start,
                    end=local_end,
                    surgeon_id=surgeon.pk,
                    late=day > visit.window_end,
                )
            )
            if len(slots) == limit:
                break
        day += dt.timedelta(days=1)
    return slots, consults


def _why_none(
    surgeon: Surgeon, first: dt.date, last: dt.date, late: bool, consults: bool
) -> str:
    """Why no slot was found, in words a clerk can act on."""
    span = f"between {first} and {last}"
    if late:
        span = f"in the next {LATE_BOOKING_DAYS} days ({first} to {last})"
    if not consults:
        detail = f"{surgeon} has no consultation sessions {span}."
    else:
        detail = f"Every slot of {surgeon} {span} is taken."
    if not late:
        detail += " Another surgeon's slots, or an override, may fit."
    return detail
