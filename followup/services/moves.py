"""The visit's moves as data (SPEC section 2), and when each may be made.

`TRANSITIONS` is the state table: the statuses a visit may move to from
each status. `ACTIONS` says which of its moves each service makes. A move
the table does not allow is a `Conflict` (code `invalid_transition`) naming
the visit's current status.

Each move has its time (clinic-local), checked against `now`: check-in only
on the booking's own day, a no-show only once the booked start has passed,
completion only after check-in. A move at the wrong time is a `Conflict`.

`allowed_moves` is what every page offers as buttons, and exactly what the
services (`followup.services.booking`) accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from clinic.clock import local
from followup.exceptions import Conflict
from followup.models import Visit, VisitStatus
from followup.services.hours import show

S = VisitStatus
# SPEC section 2: the statuses a visit may move to from each status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.TO_BOOK: frozenset({S.BOOKED, S.CANCELLED}),
    S.BOOKED: frozenset({S.BOOKED, S.TO_BOOK, S.CHECKED_IN, S.NO_SHOW, S.CANCELLED}),
    S.CHECKED_IN: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset({S.BOOKED, S.CANCELLED}),
    # Issue 19: a clinic admin reopens a visit cancelled by mistake.
    S.CANCELLED: frozenset({S.TO_BOOK}),
}


@dataclass(frozen=True)
class Action:
    event: str  # VisitEvent.action
    verb: str  # as a person reads it: "Visit 3 is completed; it cannot be <verb>."
    sources: frozenset[str]
    target: str


# Which moves of the table each service makes. Booking a booked visit is a
# reschedule and rebooking a no-show is a booking, so a clerk's slip on the
# wrong button is refused rather than silently taken for the other.
ACTIONS: dict[str, Action] = {
    "book": Action("booked", "booked", frozenset({S.TO_BOOK, S.NO_SHOW}), S.BOOKED),
    "reschedule": Action("rescheduled", "rescheduled", frozenset({S.BOOKED}), S.BOOKED),
    "unbook": Action("unbooked", "unbooked", frozenset({S.BOOKED}), S.TO_BOOK),
    "cancel": Action(
        "cancelled",
        "cancelled",
        frozenset({S.TO_BOOK, S.BOOKED, S.NO_SHOW}),
        S.CANCELLED,
    ),
    "check_in": Action("checked_in", "checked in", frozenset({S.BOOKED}), S.CHECKED_IN),
    "no_show": Action(
        "no_show", "marked as a no-show", frozenset({S.BOOKED}), S.NO_SHOW
    ),
    "complete": Action(
        "completed", "completed", frozenset({S.CHECKED_IN}), S.COMPLETED
    ),
    "reopen": Action("reopened", "reopened", frozenset({S.CANCELLED}), S.TO_BOOK),
}
BOOKABLE_STATUSES = ACTIONS["book"].sources | ACTIONS["reschedule"].sources


def _check_in_on_the_day(visit: Visit, now: dt.datetime) -> Conflict | None:
    assert visit.start is not None  # noqa: S101 - a booked visit has its slot
    day, today = local(visit.start).date(), local(now).date()
    if day == today:
        return None
    when = "has not come yet" if today < day else "has passed"
    return Conflict(
        f"Visit {visit.pk} is booked for {show(visit.start)}; that day {when}. "
        "A patient can be checked in only on the day of their visit"
        + (": reschedule it or mark a no-show." if today > day else "."),
        code="check_in_not_today",
        params={"start": visit.start, "passed": today > day},
    )


def _no_show_after_start(visit: Visit, now: dt.datetime) -> Conflict | None:
    assert visit.start is not None  # noqa: S101 - a booked visit has its slot
    if now >= visit.start:
        return None
    return Conflict(
        f"Visit {visit.pk} starts at {show(visit.start)}; it can be marked as a "
        "no-show only once that time has passed.",
        code="no_show_too_early",
        params={"start": visit.start},
    )


# When, on the clinic's clock, a move may be made (SPEC section 2); the state
# table says which moves exist, this says when. Completion needs a check-in,
# which already pins it to the day.
TIMING: dict[str, Callable[[Visit, dt.datetime], Conflict | None]] = {
    "check_in": _check_in_on_the_day,
    "no_show": _no_show_after_start,
}


def _state_refusal(visit: Visit, action: str) -> Conflict | None:
    move = ACTIONS[action]
    if visit.status in move.sources:
        # The table is the authority; ACTIONS only picks moves from it.
        assert move.target in TRANSITIONS[visit.status]  # noqa: S101
        return None
    status = VisitStatus(visit.status).label.lower()
    hint = ""
    if action == "book" and visit.status == VisitStatus.BOOKED:
        hint = " Reschedule it to move it to another slot."
    elif action == "reschedule" and visit.status in ACTIONS["book"].sources:
        hint = " Book it instead."
    return Conflict(
        f"Visit {visit.pk} is {status}; it cannot be {move.verb}.{hint}",
        code="invalid_transition",
        params={"status": status, "verb": move.verb, "hint": hint.strip()},
    )


def move_refusal(visit: Visit, action: str, now: dt.datetime) -> Conflict | None:
    """Why `visit` may not make the move `action` at `now` (the state table,
    then the move's time on the clinic's clock), or None when it may."""
    refusal = _state_refusal(visit, action)
    if refusal is None and (timing := TIMING.get(action)) is not None:
        refusal = timing(visit, now)
    return refusal


def allowed_moves(visit: Visit, now: dt.datetime) -> frozenset[str]:
    """The moves (`ACTIONS` keys) `visit` may make at `now`: what every page
    offers as buttons, and exactly what the services accept."""
    # The same questions as `move_refusal`, without writing the refusals'
    # words: a list asks this of every row it shows.
    return frozenset(
        action
        for action, move in ACTIONS.items()
        if visit.status in move.sources
        and ((timing := TIMING.get(action)) is None or timing(visit, now) is None)
    )


def require_move(visit: Visit, action: str, now: dt.datetime) -> Action:
    refusal = move_refusal(visit, action, now)
    if refusal is not None:
        raise refusal
    return ACTIONS[action]
