"""The visit lifecycle under the booking controls (SPEC sections 2 and 3).

States and moves are data: `TRANSITIONS` is the state table of SPEC section
2, and `ACTIONS` says which of its moves each service makes. A move the
table does not allow is a `Conflict` (code `invalid_transition`) naming the
visit's current status. Every change locks the visit row, writes a
`VisitEvent` with the slot before and after, and tells the calendars, in one
transaction.

A booking (book, rebook after a no-show, reschedule) is refused, and nothing
changes, when it starts in the past; when its start's local date (clinic
zone, `CLINIC_TIME_ZONE`) lies outside the visit's window, unless the actor
holds `followup.override_booking_window` and gives a reason, which the
event records; when it does not fit one of the surgeon's consultation
sessions (or the `CLINIC_HOURS` of a surgeon with none): inside the session
on its local weekday, starting on the session's grid; when it overlaps an
active booking (booked, checked in) of the same surgeon or of the same
patient. On PostgreSQL the exclusion constraints of migration 0004 make the
last check a guarantee under concurrency: the loser of a race gets the same
`Conflict` (code `slot_taken`), never a server error. On SQLite the write
lock taken at BEGIN serialises the check and the write.

Sessions are wall-clock times (`followup.services.hours`): a 09:00 session
is 09:00 in Madrid on both sides of a daylight-saving change.

Each move has its time (clinic-local), checked against `now`: check-in only
on the booking's own day, a no-show only once the booked start has passed,
completion only after check-in. A move at the wrong time is a `Conflict` and
changes nothing.

`booked`, `checked_in` and `completed` visits hold their slot
(`SLOT_HOLDING_STATUSES`): a patient seen at 09:00 keeps 09:00, so it is
never offered or booked again. A no-show frees it.

An overdue visit (window closed, still to book or a no-show) is booked late,
as soon as possible, not refused: `free_slots` proposes the earliest free
slots from now (`LATE_BOOKING_DAYS`, marked `late`), and booking after a
closed window needs no override. The visit's `late_by_days` and its event
record by how many days the booking falls after the window. Booking before
a window opens, or outside a window still open, still needs the override.

`sequence` is the iCalendar SEQUENCE of the visit's calendar entry. It rises
by one on every change these services make, the first booking included: a
patient's feed already published the visit as an all-day window, and RFC
5545 clients keep their old copy of an entry unless its SEQUENCE rises.
Every move takes an optional `sequence`, the one its caller was shown: a
different one is refused as stale, under the row lock (`staleness`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import Q

from clinic.clock import local
from clinic.models import Surgeon
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import (
    PATIENT_REQUEST,
    SLOT_HOLDING_STATUSES,
    CancelReason,
    Visit,
    VisitStatus,
)
from followup.services.history import record_event
from followup.services.hours import check_hours, show
from followup.services.parsing import (
    reason_text,
    require_aware,
)
from followup.services.staleness import check_sequence

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    from followup.models.authorship import NamedActor

    # A member of staff, the patient (`authorship.PATIENT_LINK`), or None:
    # the system.
    User = AuthUser | NamedActor | None

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
OVERRIDE_PERMISSION = "followup.override_booking_window"
EXCLUSION_VIOLATION = "23P01"  # SQLSTATE of a PostgreSQL exclusion constraint
DEADLOCK_DETECTED = "40P01"  # two bookings each waiting on the other's check


def bookable_surgeon(surgeon_id: object) -> Surgeon:
    if isinstance(surgeon_id, bool) or not isinstance(surgeon_id, int):
        raise InvalidInput(
            f"surgeon must be a surgeon's id, not {surgeon_id!r}.",
            code="unknown_surgeon",
        )
    surgeon = Surgeon.objects.filter(pk=surgeon_id).first()
    if surgeon is None:
        raise InvalidInput(
            f"Surgeon {surgeon_id} does not exist.", code="unknown_surgeon"
        )
    if not surgeon.active:
        raise InvalidInput(
            f"{surgeon} is no longer active; choose another surgeon.",
            code="surgeon_inactive",
            params={"surgeon": str(surgeon)},
        )
    return surgeon


def _locked_visit(visit_id: int, sequence: int | None = None) -> Visit:
    """The visit, its row locked; refused as stale when `sequence` is given
    and is not the visit's (`staleness`).

    The visit row is the lock: two clerks changing one visit take turns, and
    the second reads the sequence the first one left.
    """
    try:
        visit = (
            Visit.objects.select_for_update(of=("self",))
            .select_related("rule")
            .get(pk=visit_id)
        )
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Visit {visit_id} does not exist.") from None
    check_sequence(visit, sequence)
    return visit


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


def _require_move(visit: Visit, action: str, now: dt.datetime) -> Action:
    refusal = move_refusal(visit, action, now)
    if refusal is not None:
        raise refusal
    return ACTIONS[action]


# --- the booking controls ---------------------------------------------------


def _check_not_past(start: dt.datetime, now: dt.datetime) -> None:
    if start < now:
        raise InvalidInput(
            f"{show(start)} is in the past; choose a time after {show(now)}.",
            code="start_in_past",
            params={"start": start},
        )


def window_closed(visit: Visit, now: dt.datetime) -> bool:
    return local(now).date() > visit.window_end


def _check_window(
    visit: Visit,
    start: dt.datetime,
    *,
    actor: User,
    override_reason: str,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """None inside the window, or late after a closed one; else the override.

    A booking after a window that has already closed is a late booking: the
    front desk may make it without the override, since the visit most in
    need of a slot must not wait for a clinic admin.
    """
    day = local(start).date()
    if visit.window_start <= day <= visit.window_end:
        return None
    if day > visit.window_end and window_closed(visit, now):
        return None
    message = (
        f"{day} is outside the visit's booking window "
        f"({visit.window_start} to {visit.window_end})"
    )
    window = {"day": day, "first": visit.window_start, "last": visit.window_end}
    allowed = actor is not None and actor.has_perm(OVERRIDE_PERMISSION)
    if not allowed:
        raise InvalidInput(
            f"{message}; only a user allowed to override the window can book it.",
            code="outside_window",
            params={**window, "may_override": False},
        )
    if not override_reason:
        raise InvalidInput(
            f"{message}; give an override reason to book it anyway.",
            code="outside_window",
            params={**window, "may_override": True},
        )
    return {
        "reason": override_reason,
        "window": [visit.window_start.isoformat(), visit.window_end.isoformat()],
        "date": day.isoformat(),
    }


def _days_late(visit: Visit, start: dt.datetime) -> int | None:
    """How many days after its window the slot falls; None inside or before."""
    late = (local(start).date() - visit.window_end).days
    return late if late > 0 else None


def _check_free(
    visit: Visit, surgeon: Surgeon, start: dt.datetime, end: dt.datetime
) -> None:
    clash = (
        Visit.objects.filter(
            status__in=SLOT_HOLDING_STATUSES, start__lt=end, end__gt=start
        )
        .filter(Q(surgeon_id=surgeon.pk) | Q(patient_id=visit.patient_id))
        .exclude(pk=visit.pk)
        .order_by("start")
        .select_related("surgeon")
        .first()
    )
    if clash is None:
        return
    assert clash.start is not None and clash.end is not None  # noqa: S101
    held = f"{show(clash.start)}-{local(clash.end):%H:%M}"
    mine = clash.surgeon_id == surgeon.pk
    if mine:
        message = f"{surgeon} is already booked {held} (visit {clash.pk})."
    else:
        message = (
            f"The patient already has a visit {held} with {clash.surgeon} "
            f"(visit {clash.pk})."
        )
    raise Conflict(
        f"{message} Choose another slot.",
        code="slot_taken",
        # The time asked for, and whose time it is: never the other visit.
        params={
            "start": start,
            "held_by": "surgeon" if mine else "patient",
            "surgeon": str(surgeon if mine else clash.surgeon),
        },
    )


def _sqlstate(exc: DatabaseError) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _lost_a_race(exc: DatabaseError) -> bool:
    """Another booking of an overlapping slot won: the exclusion constraint
    refused this one, or (two bookings each checking the other's row) chose
    it as the deadlock's victim while checking it."""
    if isinstance(exc, IntegrityError):
        return _sqlstate(exc) == EXCLUSION_VIOLATION
    cause = exc.__cause__
    context = getattr(getattr(cause, "diag", None), "context", None) or ""
    return (
        _sqlstate(exc) == DEADLOCK_DETECTED
        and "while checking exclusion constraint" in context
    )


def _save(visit: Visit, fields: list[str]) -> None:
    """Save inside a savepoint: a lost race is a Conflict, the rest stands."""
    try:
        with transaction.atomic():
            visit.save(update_fields=[*fields, "updated_at"])
    except (IntegrityError, OperationalError) as exc:
        if not _lost_a_race(exc):
            raise
        raise Conflict(
            "Someone booked an overlapping visit for this surgeon or patient a "
            "moment ago; choose another slot.",
            code="slot_taken",
        ) from None


def _bump(visit: Visit) -> None:
    visit.sequence += 1


# --- the times of the moves --------------------------------------------------


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


# --- the lifecycle ----------------------------------------------------------


def _place(
    *,
    action: str,
    visit_id: int,
    start: dt.datetime,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str,
    sequence: int | None,
) -> Visit:
    begins = require_aware(start, field_name="start")
    now = require_aware(now, field_name="now")
    override_reason = reason_text(
        override_reason, field_name="override_reason", required=False
    )
    visit = _locked_visit(visit_id, sequence)
    move = _require_move(visit, action, now)
    surgeon = bookable_surgeon(surgeon_id)
    ends = begins + dt.timedelta(minutes=visit.duration_minutes)
    if (
        action == "reschedule"
        and visit.start == begins
        and visit.surgeon_id == surgeon.pk
    ):
        return visit  # a repeated request: the visit is already there
    _check_not_past(begins, now)
    override = _check_window(
        visit, begins, actor=actor, override_reason=override_reason, now=now
    )
    check_hours(surgeon, begins, ends)
    _check_free(visit, surgeon, begins, ends)

    previous, slot_before, surgeon_before = (
        visit.status,
        (visit.start, visit.end),
        visit.surgeon_id,
    )
    _move_to_slot(visit, move.target, begins, ends, surgeon)
    details = _placement_details(visit, surgeon_before, override)
    record_event(
        visit,
        action="rebooked" if previous == VisitStatus.NO_SHOW else move.event,
        actor=actor,
        from_status=previous,
        reason=override["reason"] if override else "",
        slot_before=slot_before,
        details=details,
        at=now,
    )
    return visit


def _move_to_slot(
    visit: Visit,
    target: str,
    begins: dt.datetime,
    ends: dt.datetime,
    surgeon: Surgeon,
) -> None:
    _bump(visit)
    visit.status = target
    visit.start, visit.end, visit.surgeon = begins, ends, surgeon
    visit.late_by_days = _days_late(visit, begins)
    # A person chose this slot (with a recorded reason when outside the
    # window), so a re-plan's "needs rebooking" flag has been dealt with.
    visit.needs_rebooking = False
    fields = ["status", "start", "end", "surgeon", "sequence"]
    _save(visit, [*fields, "needs_rebooking", "late_by_days", *_unconfirm(visit)])


def _unconfirm(visit: Visit) -> list[str]:
    """Clear the patient's confirmation: it was of the slot the visit leaves
    (a booking, reschedule, unbook, cancellation or reopening). The fields to
    save."""
    visit.confirmed, visit.confirmed_at = False, None
    return ["confirmed", "confirmed_at"]


def _placement_details(
    visit: Visit, surgeon_before: int | None, override: dict[str, Any] | None
) -> dict[str, Any]:
    """The event's details: a change of surgeon, a window override, lateness."""
    details: dict[str, Any] = {}
    if surgeon_before != visit.surgeon_id:
        details["surgeon"] = {"before": surgeon_before, "after": visit.surgeon_id}
    if override is not None:
        details["window_override"] = override
    if visit.late_by_days is not None:
        details["late"] = {
            "days_after_window": visit.late_by_days,
            "window_end": visit.window_end.isoformat(),
        }
    return details


@transaction.atomic
def book_visit(
    *,
    visit_id: int,
    start: dt.datetime,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str = "",
    sequence: int | None = None,
) -> Visit:
    """Book a visit to be booked, or rebook one after a no-show."""
    return _place(
        action="book",
        visit_id=visit_id,
        start=start,
        surgeon_id=surgeon_id,
        actor=actor,
        now=now,
        override_reason=override_reason,
        sequence=sequence,
    )


@transaction.atomic
def reschedule_visit(
    *,
    visit_id: int,
    start: dt.datetime,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str = "",
    sequence: int | None = None,
) -> Visit:
    """Move a booked visit to another slot or surgeon; its sequence rises."""
    return _place(
        action="reschedule",
        visit_id=visit_id,
        start=start,
        surgeon_id=surgeon_id,
        actor=actor,
        now=now,
        override_reason=override_reason,
        sequence=sequence,
    )


def _simple_move(
    *,
    action: str,
    visit_id: int,
    actor: User,
    now: dt.datetime,
    reason: str = "",
    clear_slot: bool = False,
    cause: CancelReason | None = None,
    sequence: int | None = None,
    details: dict[str, Any] | None = None,
) -> Visit:
    now = require_aware(now, field_name="now")
    visit = _locked_visit(visit_id, sequence)
    move = _require_move(visit, action, now)
    previous, slot_before = visit.status, (visit.start, visit.end)
    fields = ["status", "sequence"]
    _bump(visit)
    visit.status = move.target
    if clear_slot:
        visit.start = visit.end = None
        visit.needs_rebooking = False
        visit.late_by_days = None
        fields += ["start", "end", "needs_rebooking", "late_by_days"]
    if move.target in (VisitStatus.TO_BOOK, VisitStatus.CANCELLED):
        fields += _unconfirm(visit)
    if previous == VisitStatus.CANCELLED:
        # Reopened: the cancellation is undone; the history keeps it.
        visit.cancel_reason = visit.cancelled_by = ""
        fields += ["cancel_reason", "cancelled_by"]
    if move.target == VisitStatus.CANCELLED:
        # The slot stays on the row so calendars can publish the cancellation.
        visit.cancel_reason = reason
        # Empty when a person simply cancelled; a cause when the cancellation
        # follows a contact outcome, so that reports can tell it apart.
        visit.cancelled_by = cause or ""
        visit.needs_rebooking = False
        fields += ["cancel_reason", "cancelled_by", "needs_rebooking"]
    _save(visit, fields)
    record_event(
        visit,
        action=move.event,
        actor=actor,
        from_status=previous,
        reason=reason,
        slot_before=slot_before,
        at=now,
        details=details,
    )
    return visit


@transaction.atomic
def unbook_visit(
    *,
    visit_id: int,
    actor: User,
    now: dt.datetime,
    reason: str = "",
    sequence: int | None = None,
    patient_request: bool = False,
) -> Visit:
    """Give a booked visit's slot back; the visit is to book again.

    `patient_request`: the patient gave the time up themselves (reason
    `patient_request` in the event's details), which puts the visit on the
    call list (`VisitQuerySet.call_list`); `actor` is then the patient's
    channel (`followup.models.authorship.PATIENT_SMS`)."""
    return _simple_move(
        action="unbook",
        visit_id=visit_id,
        actor=actor,
        now=now,
        reason=reason_text(reason, field_name="reason", required=False),
        clear_slot=True,
        sequence=sequence,
        details={"reason": PATIENT_REQUEST} if patient_request else None,
    )


@transaction.atomic
def confirm_visit(
    *, visit_id: int, start: dt.datetime, actor: User, now: dt.datetime
) -> Visit:
    """The patient confirms they will come to the booked `start` (a reply to
    its reminder). Refused as a `Conflict` when the visit is no longer booked
    at that time; confirming twice is once. The sequence stays: nothing the
    calendars show changes."""
    now = require_aware(now, field_name="now")
    visit = _locked_visit(visit_id)
    if visit.status != VisitStatus.BOOKED or visit.start != start:
        raise Conflict(
            f"Visit {visit.pk} is no longer booked at that time; nothing to confirm.",
            code="not_booked_there",
        )
    if visit.confirmed:
        return visit
    visit.confirmed, visit.confirmed_at = True, now
    visit.save(update_fields=["confirmed", "confirmed_at", "updated_at"])
    record_event(
        visit,
        action="confirmed",
        actor=actor,
        from_status=visit.status,
        at=now,
    )
    return visit


@transaction.atomic
def cancel_visit(
    *,
    visit_id: int,
    reason: str,
    actor: User,
    now: dt.datetime,
    cause: CancelReason | None = None,
    sequence: int | None = None,
) -> Visit:
    """Cancel a visit that is no longer needed; the reason is required.

    `cause` records why in a form reports can count (a declined follow-up, a
    patient who moved away or died); empty for a plain cancellation.
    """
    return _simple_move(
        action="cancel",
        visit_id=visit_id,
        actor=actor,
        now=now,
        reason=reason_text(reason, field_name="reason", required=True),
        cause=cause,
        sequence=sequence,
    )


@transaction.atomic
def check_in_visit(
    *, visit_id: int, actor: User, now: dt.datetime, sequence: int | None = None
) -> Visit:
    """The patient of a booked visit is at the clinic."""
    return _simple_move(
        action="check_in", visit_id=visit_id, actor=actor, now=now, sequence=sequence
    )


@transaction.atomic
def mark_no_show(
    *, visit_id: int, actor: User, now: dt.datetime, sequence: int | None = None
) -> Visit:
    """The patient did not come; the slot is free again, the visit rebookable."""
    return _simple_move(
        action="no_show", visit_id=visit_id, actor=actor, now=now, sequence=sequence
    )


@transaction.atomic
def complete_visit(
    *, visit_id: int, actor: User, now: dt.datetime, sequence: int | None = None
) -> Visit:
    """The surgeon has seen the checked-in patient."""
    return _simple_move(
        action="complete", visit_id=visit_id, actor=actor, now=now, sequence=sequence
    )


def _check_reopenable(visit_id: int, now: dt.datetime) -> None:
    """A cancelled visit comes back only while its plan still holds it: its
    procedure active and, for an annual review, its programme not ended."""
    visit = _locked_visit(visit_id)
    _require_move(visit, "reopen", now)
    procedure = visit.procedure
    if not procedure.is_active():
        status = procedure.get_status_display().lower()
        raise Conflict(
            f"Visit {visit.pk} stays cancelled: its procedure is {status}.",
            code="procedure_not_active",
        )
    ended = procedure.annual_reviews_ended_on
    if visit.rule.recurring and ended is not None and visit.due_date > ended:
        raise Conflict(
            f"Visit {visit.pk} stays cancelled: the annual reviews ended on "
            f"{ended}, before it was due.",
            code="programme_ended",
        )


@transaction.atomic
def reopen_visit(*, visit_id: int, actor: User, reason: str, now: dt.datetime) -> Visit:
    """Return a visit cancelled by mistake to *to book*; the reason is
    required and the history keeps it. Who may (clinic admins) is the
    caller's check (`followup.access`)."""
    reason = reason_text(reason, field_name="reason", required=True)
    now = require_aware(now, field_name="now")
    _check_reopenable(visit_id, now)
    return _simple_move(
        action="reopen",
        visit_id=visit_id,
        actor=actor,
        now=now,
        reason=reason,
        clear_slot=True,
    )
