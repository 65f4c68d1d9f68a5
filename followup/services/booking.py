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

`sequence` is the iCalendar SEQUENCE of the visit's calendar entry. It stays
as it is on a visit's first booking (the entry is born) and rises by one on
every later change these services make: reschedule, unbook, rebook, cancel,
no-show, check-in and complete, because calendar clients keep their old copy
of an entry unless its SEQUENCE rises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from clinic.models import Surgeon
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import (
    SLOT_HOLDING_STATUSES,
    Visit,
    VisitEvent,
    VisitStatus,
)
from followup.services.hours import (
    check_hours,
    clinic_zone,
    grid,
    hours_of,
    local,
    show,
)
from followup.services.planning import record_event

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    User = AuthUser | None

S = VisitStatus
# SPEC section 2: the statuses a visit may move to from each status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.TO_BOOK: frozenset({S.BOOKED, S.CANCELLED}),
    S.BOOKED: frozenset({S.BOOKED, S.TO_BOOK, S.CHECKED_IN, S.NO_SHOW, S.CANCELLED}),
    S.CHECKED_IN: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset({S.BOOKED, S.CANCELLED}),
    S.CANCELLED: frozenset(),
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
}
BOOKABLE_STATUSES = ACTIONS["book"].sources | ACTIONS["reschedule"].sources
OVERRIDE_PERMISSION = "followup.override_booking_window"
MAX_SLOTS = 100
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
EXCLUSION_VIOLATION = "23P01"  # SQLSTATE of a PostgreSQL exclusion constraint


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    surgeon_id: int


# --- input ------------------------------------------------------------------


def parse_start(value: dt.datetime | str, *, field_name: str = "start") -> dt.datetime:
    """An aware datetime, in UTC; a time without a UTC offset is refused."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"{field_name} {value!r} is not a date and time; write it in ISO "
                "8601 with its UTC offset, like 2027-03-29T09:00:00+02:00.",
                code="invalid_datetime",
            ) from None
    else:
        raise InvalidInput(
            f"{field_name} must be an ISO 8601 date and time with its UTC offset.",
            code="invalid_datetime",
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{field_name} {value!s} has no UTC offset, so it is ambiguous; add "
            "it, like 2027-03-29T09:00:00+02:00 for 09:00 in Madrid.",
            code="naive_datetime",
        )
    return _in_range(moment, field_name=field_name)


def _require_aware(moment: dt.datetime, *, field_name: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{field_name} must carry a UTC offset.", code="naive_datetime"
        )
    return _in_range(moment, field_name=field_name)


def _in_range(moment: dt.datetime, *, field_name: str) -> dt.datetime:
    # Years 1 and 9999 overflow as soon as an offset or a duration is applied.
    try:
        utc = moment.astimezone(dt.UTC)
        if EARLIEST <= utc <= LATEST:
            return utc
    except OverflowError:
        pass
    raise InvalidInput(
        f"{field_name} {moment.isoformat()} is out of range.",
        code="invalid_datetime",
    )


def _reason(value: str, *, field_name: str, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field_name} is required.", code="required")
    if len(text) > 500:
        raise InvalidInput(
            f"{field_name} is longer than 500 characters.", code="too_long"
        )
    return text


def _bookable_surgeon(surgeon_id: object) -> Surgeon:
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
        )
    return surgeon


def _locked_visit(visit_id: int) -> Visit:
    # The visit row is the lock: two clerks changing one visit take turns.
    try:
        return (
            Visit.objects.select_for_update(of=("self",))
            .select_related("rule")
            .get(pk=visit_id)
        )
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Visit {visit_id} does not exist.") from None


def _require_move(visit: Visit, action: str) -> Action:
    move = ACTIONS[action]
    if visit.status not in move.sources:
        status = VisitStatus(visit.status).label.lower()
        hint = ""
        if action == "book" and visit.status == VisitStatus.BOOKED:
            hint = " Reschedule it to move it to another slot."
        elif action == "reschedule" and visit.status in ACTIONS["book"].sources:
            hint = " Book it instead."
        raise Conflict(
            f"Visit {visit.pk} is {status}; it cannot be {move.verb}.{hint}",
            code="invalid_transition",
        )
    # The table is the authority; ACTIONS only picks moves from it.
    assert move.target in TRANSITIONS[visit.status]  # noqa: S101
    return move


# --- the booking controls ---------------------------------------------------


def _check_not_past(start: dt.datetime, now: dt.datetime) -> None:
    if start < now:
        raise InvalidInput(
            f"{show(start)} is in the past; choose a time after {show(now)}.",
            code="start_in_past",
        )


def _check_window(
    visit: Visit, start: dt.datetime, *, actor: User, override_reason: str
) -> dict[str, Any] | None:
    """None inside the window; the override's record outside it, if allowed."""
    day = local(start).date()
    if visit.window_start <= day <= visit.window_end:
        return None
    message = (
        f"{day} is outside the visit's booking window "
        f"({visit.window_start} to {visit.window_end})"
    )
    allowed = actor is not None and actor.has_perm(OVERRIDE_PERMISSION)
    if not allowed:
        raise InvalidInput(
            f"{message}; only a user allowed to override the window can book it.",
            code="outside_window",
        )
    if not override_reason:
        raise InvalidInput(
            f"{message}; give an override reason to book it anyway.",
            code="outside_window",
        )
    return {
        "reason": override_reason,
        "window": [visit.window_start.isoformat(), visit.window_end.isoformat()],
        "date": day.isoformat(),
    }


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
    if clash.surgeon_id == surgeon.pk:
        message = f"{surgeon} is already booked {held} (visit {clash.pk})."
    else:
        message = (
            f"The patient already has a visit {held} with {clash.surgeon} "
            f"(visit {clash.pk})."
        )
    raise Conflict(f"{message} Choose another slot.", code="slot_taken")


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return state == EXCLUSION_VIOLATION


def _save(visit: Visit, fields: list[str]) -> None:
    """Save inside a savepoint: a lost race is a Conflict, the rest stands."""
    try:
        with transaction.atomic():
            visit.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        if not _is_exclusion_violation(exc):
            raise
        raise Conflict(
            "Someone booked an overlapping visit for this surgeon or patient a "
            "moment ago; choose another slot.",
            code="slot_taken",
        ) from None


def _held_a_slot_before(visit: Visit) -> bool:
    return VisitEvent.objects.filter(visit=visit, start_after__isnull=False).exists()


def _bump(visit: Visit) -> None:
    visit.sequence += 1


# --- the lifecycle ----------------------------------------------------------


def _place(
    *,
    action: str,
    visit_id: int,
    start: dt.datetime | str,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str,
) -> Visit:
    begins = parse_start(start)
    now = _require_aware(now, field_name="now")
    override_reason = _reason(
        override_reason, field_name="override_reason", required=False
    )
    visit = _locked_visit(visit_id)
    move = _require_move(visit, action)
    surgeon = _bookable_surgeon(surgeon_id)
    ends = begins + dt.timedelta(minutes=visit.duration_minutes)
    if (
        action == "reschedule"
        and visit.start == begins
        and visit.surgeon_id == surgeon.pk
    ):
        return visit  # a repeated request: the visit is already there
    _check_not_past(begins, now)
    override = _check_window(
        visit, begins, actor=actor, override_reason=override_reason
    )
    check_hours(surgeon, begins, ends)
    _check_free(visit, surgeon, begins, ends)

    previous, slot_before, surgeon_before = (
        visit.status,
        (visit.start, visit.end),
        visit.surgeon_id,
    )
    first_booking = previous == VisitStatus.TO_BOOK and not _held_a_slot_before(visit)
    if not first_booking:
        _bump(visit)
    visit.status = move.target
    visit.start, visit.end, visit.surgeon = begins, ends, surgeon
    # A person chose this slot (with a recorded reason when outside the
    # window), so a re-plan's "needs rebooking" flag has been dealt with.
    visit.needs_rebooking = False
    _save(visit, ["status", "start", "end", "surgeon", "needs_rebooking", "sequence"])
    details: dict[str, Any] = {}
    if surgeon_before != surgeon.pk:
        details["surgeon"] = {"before": surgeon_before, "after": surgeon.pk}
    if override is not None:
        details["window_override"] = override
    record_event(
        visit,
        action="rebooked" if previous == VisitStatus.NO_SHOW else move.event,
        actor=actor,
        from_status=previous,
        reason=override["reason"] if override else "",
        slot_before=slot_before,
        details=details,
    )
    return visit


@transaction.atomic
def book_visit(
    *,
    visit_id: int,
    start: dt.datetime | str,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str = "",
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
    )


@transaction.atomic
def reschedule_visit(
    *,
    visit_id: int,
    start: dt.datetime | str,
    surgeon_id: int,
    actor: User,
    now: dt.datetime,
    override_reason: str = "",
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
    )


def _simple_move(
    *,
    action: str,
    visit_id: int,
    actor: User,
    now: dt.datetime,
    reason: str = "",
    clear_slot: bool = False,
) -> Visit:
    _require_aware(now, field_name="now")
    visit = _locked_visit(visit_id)
    move = _require_move(visit, action)
    previous, slot_before = visit.status, (visit.start, visit.end)
    fields = ["status", "sequence"]
    _bump(visit)
    visit.status = move.target
    if clear_slot:
        visit.start = visit.end = None
        visit.needs_rebooking = False
        fields += ["start", "end", "needs_rebooking"]
    if move.target == VisitStatus.CANCELLED:
        # The slot stays on the row so calendars can publish the cancellation.
        visit.cancel_reason = reason
        visit.cancelled_by = ""  # a person, not the system (see CancelReason)
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
    )
    return visit


@transaction.atomic
def unbook_visit(
    *, visit_id: int, actor: User, now: dt.datetime, reason: str = ""
) -> Visit:
    """Give a booked visit's slot back; the visit is to book again."""
    return _simple_move(
        action="unbook",
        visit_id=visit_id,
        actor=actor,
        now=now,
        reason=_reason(reason, field_name="reason", required=False),
        clear_slot=True,
    )


@transaction.atomic
def cancel_visit(*, visit_id: int, reason: str, actor: User, now: dt.datetime) -> Visit:
    """Cancel a visit that is no longer needed; the reason is required."""
    return _simple_move(
        action="cancel",
        visit_id=visit_id,
        actor=actor,
        now=now,
        reason=_reason(reason, field_name="reason", required=True),
    )


@transaction.atomic
def check_in_visit(*, visit_id: int, actor: User, now: dt.datetime) -> Visit:
    """The patient of a booked visit is at the clinic."""
    return _simple_move(action="check_in", visit_id=visit_id, actor=actor, now=now)


@transaction.atomic
def mark_no_show(*, visit_id: int, actor: User, now: dt.datetime) -> Visit:
    """The patient did not come; the slot is free again, the visit rebookable."""
    return _simple_move(action="no_show", visit_id=visit_id, actor=actor, now=now)


@transaction.atomic
def complete_visit(*, visit_id: int, actor: User, now: dt.datetime) -> Visit:
    """The surgeon has seen the checked-in patient."""
    return _simple_move(action="complete", visit_id=visit_id, actor=actor, now=now)


# --- proposals --------------------------------------------------------------


def free_slots(
    *,
    visit: Visit,
    now: dt.datetime,
    after: dt.datetime | None = None,
    limit: int = 10,
    surgeon_id: int | None = None,
) -> list[Slot]:
    """The next free slots of the visit's length inside its window.

    On the surgeon's session grid (default: the visit's surgeon), not before
    `now` nor `after`, skipping the time held by that surgeon's and that
    patient's active bookings. Three queries whatever the window's length.
    Booking a proposed slot passes every control.
    """
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_SLOTS
    ):
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_SLOTS}.", code="invalid_limit"
        )
    earliest = _require_aware(now, field_name="now")
    if after is not None:
        earliest = max(earliest, _require_aware(after, field_name="from"))
    if visit.status not in BOOKABLE_STATUSES:
        status = VisitStatus(visit.status).label.lower()
        raise Conflict(
            f"Visit {visit.pk} is {status}; it cannot be booked.",
            code="invalid_transition",
        )
    chosen = surgeon_id if surgeon_id is not None else visit.surgeon_id
    if chosen is None:
        chosen = visit.procedure.surgeon_id
    surgeon = _bookable_surgeon(chosen)
    zone = clinic_zone()
    first_day = max(visit.window_start, local(earliest).date())
    if first_day > visit.window_end:
        return []
    hours = hours_of(surgeon.pk)
    range_start = dt.datetime.combine(first_day, dt.time(), zone)
    range_end = dt.datetime.combine(
        visit.window_end + dt.timedelta(days=1), dt.time(), zone
    )
    busy = [
        (held_start, held_end)
        for held_start, held_end in Visit.objects.filter(
            status__in=SLOT_HOLDING_STATUSES, start__lt=range_end, end__gt=range_start
        )
        .filter(Q(surgeon_id=surgeon.pk) | Q(patient_id=visit.patient_id))
        .exclude(pk=visit.pk)
        .values_list("start", "end")
        if held_start is not None and held_end is not None
    ]
    length = dt.timedelta(minutes=visit.duration_minutes)
    slots: list[Slot] = []
    day = first_day
    while day <= visit.window_end:
        for start in grid(hours, day, length):
            end = start + length
            if start < earliest or any(b < end and start < e for b, e in busy):
                continue
            slots.append(
                Slot(start=local(start), end=local(end), surgeon_id=surgeon.pk)
            )
            if len(slots) == limit:
                return slots
        day += dt.timedelta(days=1)
    return slots
