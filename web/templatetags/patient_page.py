"""Words and times for the patient pages: statuses, history actions, slots."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, timezone

from clinic import clock
from followup.models import ContactAttempt, Visit, VisitEvent, VisitStatus
from followup.services.moves import allowed_moves

register = template.Library()

# What each history action means to a person reading it.
EVENT_LABELS = {
    "generated": "Planned",
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "rebooked": "Rebooked after a no-show",
    "unbooked": "Unbooked",
    "cancelled": "Cancelled",
    "checked_in": "Checked in",
    "no_show": "Marked as a no-show",
    "completed": "Completed",
    "moved": "Dates moved by a correction",
    "window_moved": "Window moved by a correction",
    "flagged_for_rebooking": "Flagged for rebooking",
    "reopened": "Reopened: to book again",
    "confirmed": "Confirmed by the patient",
}


@register.filter
def status_label(value: str) -> str:
    """A visit status in words; an empty one (a visit's first event) as such."""
    if not value:
        return "new"
    try:
        return str(VisitStatus(value).label)
    except ValueError:
        return value


@register.filter
def event_label(action: str) -> str:
    return EVENT_LABELS.get(action, action.replace("_", " ").capitalize())


@register.filter
def author(row: VisitEvent | ContactAttempt) -> str:
    """Who wrote a history row: their full name while the account exists,
    the username kept with the row once it is deleted, else the system."""
    actor = row.actor
    if actor is not None:
        return actor.get_full_name() or actor.get_username()
    return row.actor_name or "System"


@register.simple_tag
def slot(
    start: dt.datetime | None, end: dt.datetime | None, *, short: bool = False
) -> str:
    """'Wed 2 Dec 2026, 09:20-09:40' (an en dash) on the clinic's clock."""
    if start is None:
        return "no slot"
    style = "SHORT_DATETIME_FORMAT" if short else "DATETIME_FORMAT"
    text = formats.date_format(timezone.localtime(start), style)
    if end is None:
        return text
    until = formats.time_format(timezone.localtime(end), "TIME_FORMAT")
    return f"{text}\N{EN DASH}{until}"


@register.filter
def may_move(visit: Visit, move: str) -> bool:
    """Whether the state table allows `move` of `visit` now (`allowed_moves`)."""
    return move in allowed_moves(visit, clock.now())
