"""A stale action: one made on a visit as it was when the person (or the
client) last read it, after someone else changed it.

Every change of a visit raises its `sequence` (`booking`), so an action that
carries the sequence it was shown is refused when the two differ: a second
clerk's *Book* on a row that another clerk has just booked must not move
that booking. The check runs on the visit's row as locked by the service
(`SELECT … FOR UPDATE`), so two clerks racing are decided by the database:
the second one reads the first one's sequence.

The refusal says what changed and who changed it, from the visit's latest
event, in words a person reads, with no ids.
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats

from clinic.clock import local
from followup.exceptions import Conflict
from followup.models import Visit, VisitEvent

STALE = "stale"

# What an event did to the visit, as "<who> … it": a slot follows the
# moves that place the visit.
DONE = {
    "booked": "booked it for",
    "rebooked": "booked it again for",
    "rescheduled": "moved it to",
    "unbooked": "unbooked it",
    "cancelled": "cancelled it",
    "checked_in": "checked the patient in",
    "no_show": "marked it as a no-show",
    "completed": "completed it",
    "moved": "moved its dates (a correction of the procedure)",
    "window_moved": "moved its window (a correction of the procedure)",
    "flagged_for_rebooking": "flagged it for rebooking",
    "replanned": "re-planned it",
    "reopened": "reopened it",
    "generated": "planned it",
}


def _when(moment: dt.datetime) -> str:
    return formats.date_format(local(moment), "DATETIME_FORMAT")


def change_in_words(event: VisitEvent | None) -> str:
    """'desk2 moved it to Tue 8 Dec 2026, 10:00': the event, as a person says it."""
    if event is None:
        return "It was changed"
    who = event.actor_name or "The system"
    done = DONE.get(event.action, "changed it")
    if done.endswith((" for", " to")) and event.start_after is not None:
        done = f"{done} {_when(event.start_after)}"
    elif done.endswith((" for", " to")):
        done = "changed it"
    return f"{who} {done}"


def check_sequence(visit: Visit, expected: int | None) -> None:
    """Refuse (409 `stale`) when `expected` is not the visit's sequence.

    `visit` must be the row locked by the service's transaction; None means
    the caller did not say which version it saw, and is not checked.
    """
    if expected is None or expected == visit.sequence:
        return
    change = change_in_words(visit.events.order_by("-id").first())
    raise Conflict(
        f"This visit changed after it was shown: {change}. Nothing was done; "
        "here it is as it now is.",
        code=STALE,
        params={"change": change},
    )
