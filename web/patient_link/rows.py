"""What the booking page shows: the visit, its booking, the free slots by
day. Only what SPEC section 8 lists: the visit's name and window, the
patient's given name, the current booking; never a record number, a family
name, another visit or another patient."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from clinic.clock import local
from followup import services
from followup.exceptions import DomainError
from followup.models import Visit, VisitStatus
from followup.services.booking import BOOKABLE_STATUSES
from web.refusals import day as day_words

# Free slots shown at once: a few days' worth on a phone.
SLOT_LIMIT = 36


@dataclass(frozen=True)
class SlotChoice:
    value: str  # what the form posts: ISO 8601 with the clinic's offset
    time: str  # "09:20"


@dataclass(frozen=True)
class DaySlots:
    day: dt.date
    label: str
    slots: list[SlotChoice]


@dataclass(frozen=True)
class Offer:
    """The free slots, earliest day first, and whether they are late."""

    days: list[DaySlots]
    late: bool = False
    bookable: bool = True


def offer(visit: Visit, *, now: dt.datetime) -> Offer:
    """The slots the front desk would be offered for the visit, but the one
    it holds; none for a visit that cannot be booked now."""
    if visit.status not in BOOKABLE_STATUSES:
        return Offer([], bookable=False)
    try:
        search = services.propose_slots(visit=visit, now=now, limit=SLOT_LIMIT)
    except DomainError:
        return Offer([])
    free = [slot for slot in search.slots if slot.start != visit.start]
    days = [
        DaySlots(
            day=day,
            label=day_words(day),
            slots=[
                SlotChoice(local(slot.start).isoformat(), f"{local(slot.start):%H:%M}")
                for slot in group
            ],
        )
        for day, group in itertools.groupby(free, key=lambda s: local(s.start).date())
    ]
    return Offer(days, late=any(slot.late for slot in free))


def booked(visit: Visit) -> bool:
    return visit.status == VisitStatus.BOOKED and visit.start is not None
