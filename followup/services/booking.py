"""The visit lifecycle under the booking controls (SPEC sections 2 and 3).

Which moves exist and when each may be made is `followup.services.moves`.
Every change locks the visit row, writes a
`VisitEvent` with the slot before and after, and tells the calendars, in one
transaction; a change that gives a booked slot back says so too
(`followup.changes.slot_freed`: freed slots are offered to others).

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
from typing import TYPE_CHECKING, Any

from django.db import transaction

from clinic.models import Surgeon
from followup.changes import tell_if_freed
from followup.exceptions import Conflict, NotFound
from followup.models import (
    PATIENT_REQUEST,
    CancelReason,
    Visit,
    VisitStatus,
)
from followup.services.booking_checks import (
    bookable_surgeon,
    bump_sequence,
    check_free,
    check_not_past,
    check_window,
    days_late,
    moved_fields,
    save_visit,
    unconfirm,
)
from followup.services.history import record_event
from followup.services.hours import check_hours
from followup.services.moves import require_move
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
    move = require_move(visit, action, now)
    surgeon = bookable_surgeon(surgeon_id)
    ends = begins + dt.timedelta(minutes=visit.duration_minutes)
    if (
        action == "reschedule"
        and visit.start == begins
        and visit.surgeon_id == surgeon.pk
    ):
        return visit  # a repeated request: the visit is already there
    check_not_past(begins, now)
    override = check_window(
        visit, begins, actor=actor, override_reason=override_reason, now=now
    )
    check_hours(surgeon, begins, ends)
    check_free(visit, surgeon, begins, ends)

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
    tell_if_freed(
        visit,
        status_before=previous,
        slot_before=slot_before,
        surgeon_before=surgeon_before,
        action=move.event,
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
    bump_sequence(visit)
    visit.status = target
    visit.start, visit.end, visit.surgeon = begins, ends, surgeon
    visit.late_by_days = days_late(visit, begins)
    # A person chose this slot (with a recorded reason when outside the
    # window), so a re-plan's "needs rebooking" flag has been dealt with.
    visit.needs_rebooking = False
    fields = ["status", "start", "end", "surgeon", "sequence"]
    save_visit(visit, [*fields, "needs_rebooking", "late_by_days", *unconfirm(visit)])


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
    move = require_move(visit, action, now)
    previous, slot_before = visit.status, (visit.start, visit.end)
    bump_sequence(visit)
    visit.status = move.target
    fields = ["status", "sequence", *moved_fields(visit, previous, clear_slot)]
    if move.target == VisitStatus.CANCELLED:
        # The slot stays on the row so calendars can publish the cancellation.
        visit.cancel_reason = reason
        # Empty when a person simply cancelled; a cause when the cancellation
        # follows a contact outcome, so that reports can tell it apart.
        visit.cancelled_by = cause or ""
        visit.needs_rebooking = False
        fields += ["cancel_reason", "cancelled_by", "needs_rebooking"]
    save_visit(visit, fields)
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
    tell_if_freed(
        visit,
        status_before=previous,
        slot_before=slot_before,
        surgeon_before=visit.surgeon_id,
        action=move.event,
        at=now,
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
    require_move(visit, "reopen", now)
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
def reopen_visit(
    *,
    visit_id: int,
    actor: User,
    reason: str,
    now: dt.datetime,
    sequence: int | None = None,
) -> Visit:
    """Return a visit cancelled by mistake to *to book*; the reason is
    required and the history keeps it. Who may (clinic admins) is the
    caller's check (`followup.access`). With the `sequence` a page showed,
    a visit reopened and cancelled again since is refused as stale: that
    later cancellation is not the mistake being undone."""
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
        sequence=sequence,
    )
