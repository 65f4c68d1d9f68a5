"""What the booking page shows: the visit, its booking, the free slots by
day. Only what SPEC section 8 lists: the visit's name and window, the
patient's given name, the current booking; never a record number, a family
name, another visit or another patient."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.template.loader import render_to_string

from booking_links.services import has_begun
from clinic.clock import clinic_zone, local
from followup import services
from followup.exceptions import DomainError, InvalidInput
from followup.models import Visit, VisitStatus
from followup.services.moves import BOOKABLE_STATUSES
from followup.services.parsing import parse_aware_datetime
from offers.claims import OfferOnPage
from web.refusals import day as day_words
from web.refusals import when

# Free slots shown at once: a few days' worth on a phone.
SLOT_LIMIT = 36


@dataclass(frozen=True)
class SlotChoice:
    value: str  # what the form posts: ISO 8601 with the clinic's offset
    time: str  # "09:20"


@dataclass(frozen=True)
class DaySlots:
    """A day's free times, each on the clinic's clock (`zone`: equal times
    on another clock are other buttons)."""

    day: dt.date
    starts: tuple[dt.datetime, ...]
    zone: dt.tzinfo

    @property
    def html(self) -> str:
        """The day's heading and buttons (`DAY`)."""
        if settings.DEBUG:  # an edited template shows at once
            return _day_html.__wrapped__(self)
        return _day_html(self)


# A day of free times on the page. Its dozens of buttons cost the page about
# half a millisecond through the template, and the same day's free times
# appear on the pages of many patients of a surgeon (visits of the same
# length, no booking of their own that day): each is rendered once, from the
# day and its times alone (no token, no patient), and kept. The key is
# hashed and compared in C (a date, datetimes): only a day not yet kept
# makes its label and buttons' values.
DAY = "web/patient_link/day.html"


@functools.lru_cache(maxsize=4096)
def _day_html(day: DaySlots) -> str:
    slots = [
        SlotChoice(start.isoformat(), f"{start.hour:02}:{start.minute:02}")
        for start in day.starts
    ]
    return render_to_string(DAY, {"label": day_words(day.day), "slots": slots})


@dataclass(frozen=True)
class Offer:
    """The free slots, earliest day first, and whether they are late; where
    the next ones start (`later`), and whether these are not the soonest."""

    days: list[DaySlots]
    late: bool = False
    bookable: bool = True
    later: str = ""
    paged: bool = False


def query(**params: str) -> str:
    """The page's query of `params`, `?` first, its empty values left out;
    empty for none."""
    given = {name: value for name, value in params.items() if value}
    return f"?{urlencode(given)}" if given else ""


def after_of(value: str | None) -> dt.datetime | None:
    """The page's `after` (where a "Later times" page starts); None when
    absent or not understood: the soonest slots then."""
    try:
        return parse_aware_datetime(value or "", field_name="after")
    except InvalidInput:
        return None


def offer(visit: Visit, *, now: dt.datetime, after: dt.datetime | None = None) -> Offer:
    """The slots the front desk would be offered for the visit, but the one
    it holds, from `after` on; none for a visit that cannot be booked now."""
    if visit.status not in BOOKABLE_STATUSES or has_begun(visit, now):
        return Offer([], bookable=False)
    # As the desk's: an overdue visit's late range runs from now, not from
    # where a "Later times" page starts.
    last = services.slot_days(visit, now)[1]
    try:
        search = services.propose_slots(
            visit=visit, now=now, after=after, limit=SLOT_LIMIT + 1, until=last
        )
    except DomainError:
        return Offer([])
    found, later = search.slots[:SLOT_LIMIT], ""
    if len(search.slots) > SLOT_LIMIT:
        # From the minute after the last one shown: slots may overlap.
        later = local(found[-1].start + dt.timedelta(minutes=1)).isoformat()
    free = [slot for slot in found if slot.start != visit.start]
    starts = [slot.start for slot in free]  # on the clinic's clock already
    zone = clinic_zone()
    days = [
        DaySlots(day, tuple(group), zone)
        for day, group in itertools.groupby(starts, key=lambda start: start.date())
    ]
    late = any(slot.late for slot in free)
    return Offer(days, late=late, later=later, paged=after is not None)


def booked(visit: Visit) -> bool:
    return visit.status == VisitStatus.BOOKED and visit.start is not None


# What the page says of an offer no longer open, by its state.
OFFER_SAID = {
    "taken": "Someone else booked {when} first, so this offer is closed. "
    "Your other free times are below.",
    "expired": "The offer of {when} ended at {ends}. If that time is still "
    "free, it is among the times below.",
    "claimed": "You booked {when} through this offer.",
    "withdrawn": "The offer of {when} is closed.",
}


def offer_said(offered: OfferOnPage | None) -> str:
    """An offer no longer open, in words; empty for an open one or none."""
    if offered is None or offered.open:
        return ""
    return OFFER_SAID.get(offered.state, OFFER_SAID["withdrawn"]).format(
        when=when(offered.start), ends=f"{offered.expires_at:%H:%M}"
    )
