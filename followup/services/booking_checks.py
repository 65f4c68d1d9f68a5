"""The booking controls (SPEC section 3): what a slot must be for a visit to
be placed in it, and saving the visit so that a race lost to another
booking is the same refusal as a slot found taken.

A slot is refused when it starts in the past; when its local date lies
outside the visit's window, unless the actor holds
`followup.override_booking_window` and gives a reason (an overdue visit is
booked late without one); when it does not fit the surgeon's sessions
(`followup.services.hours`); when it overlaps an active booking of the same
surgeon or patient. On PostgreSQL the exclusion constraints make the last
check a guarantee under concurrency.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import Q

from clinic.clock import local
from clinic.models import Surgeon
from core.quoting import quoted
from followup.exceptions import Conflict, InvalidInput
from followup.models import (
    SLOT_HOLDING_STATUSES,
    Visit,
    VisitStatus,
)
from followup.services.hours import show

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    from followup.models.authorship import NamedActor

    User = AuthUser | NamedActor | None

OVERRIDE_PERMISSION = "followup.override_booking_window"
EXCLUSION_VIOLATION = "23P01"  # SQLSTATE of a PostgreSQL exclusion constraint
DEADLOCK_DETECTED = "40P01"  # two bookings each waiting on the other's check


def bookable_surgeon(surgeon_id: object) -> Surgeon:
    if isinstance(surgeon_id, bool) or not isinstance(surgeon_id, int):
        raise InvalidInput(
            f"surgeon must be a surgeon's id, not {quoted(surgeon_id)}.",
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


# --- the booking controls ---------------------------------------------------


def check_not_past(start: dt.datetime, now: dt.datetime) -> None:
    if start < now:
        raise InvalidInput(
            f"{show(start)} is in the past; choose a time after {show(now)}.",
            code="start_in_past",
            params={"start": start},
        )


def window_closed(visit: Visit, now: dt.datetime) -> bool:
    return local(now).date() > visit.window_end


def check_window(
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


def days_late(visit: Visit, start: dt.datetime) -> int | None:
    """How many days after its window the slot falls; None inside or before."""
    late = (local(start).date() - visit.window_end).days
    return late if late > 0 else None


def check_free(
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


def save_visit(visit: Visit, fields: list[str]) -> None:
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


def bump_sequence(visit: Visit) -> None:
    visit.sequence += 1


def unconfirm(visit: Visit) -> list[str]:
    """Clear the patient's confirmation: it was of the slot the visit leaves
    (a booking, reschedule, unbook, cancellation or reopening). The fields to
    save."""
    visit.confirmed, visit.confirmed_at = False, None
    return ["confirmed", "confirmed_at"]


def moved_fields(visit: Visit, previous: str, clear_slot: bool) -> list[str]:
    """A simple move's changes but the cancellation's own: the slot cleared,
    the confirmation dropped, a cancellation undone. The fields to save."""
    fields: list[str] = []
    if clear_slot:
        visit.start = visit.end = None
        visit.needs_rebooking = False
        visit.late_by_days = None
        fields += ["start", "end", "needs_rebooking", "late_by_days"]
    if visit.status in (VisitStatus.TO_BOOK, VisitStatus.CANCELLED):
        fields += unconfirm(visit)
    if previous == VisitStatus.CANCELLED:
        # Reopened: the cancellation is undone; the history keeps it.
        visit.cancel_reason = visit.cancelled_by = ""
        fields += ["cancel_reason", "cancelled_by"]
    return fields
