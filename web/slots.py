"""A row's slot picker: a page of free slots, "Later slots", and a day.

`SlotAsk` is what the panel was asked for, carried in the URL (and in the
booking form, so that a refusal shows the same slots again): whose slots
(`slots_surgeon`), on which day (`slots_day`, a date inside the window, or
the late range of an overdue visit), from which time (`slots_after`, the
next page's start). `slot_panel` answers it with the services' own
`propose_slots`: `SLOT_LIMIT` slots, and a link to the next ones when there
are more, so that every free slot of the window can be reached without
JavaScript. A value that is not understood is left out, not refused: the
panel then shows the soonest slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from clinic.clock import local, start_of_day
from followup import services
from followup.exceptions import DomainError, InvalidInput
from followup.models import Visit
from followup.services.parsing import parse_aware_datetime
from followup.services.slots import Slot, SlotSearch
from web.query_text import whole_number
from web.refusals import day as day_words
from web.refusals import say

SLOT_LIMIT = 12


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _moment(value: str | None) -> dt.datetime | None:
    try:
        return parse_aware_datetime(value or "", field_name="slots_after")
    except InvalidInput:
        return None


@dataclass(frozen=True)
class SlotAsk:
    """Which slots a panel shows: whose, on which day, from which time."""

    surgeon: int | None = None
    day: dt.date | None = None
    after: dt.datetime | None = None

    @classmethod
    def read(cls, data: Mapping[str, str]) -> SlotAsk:
        return cls(
            surgeon=whole_number(data.get("slots_surgeon")),
            day=_day(data.get("slots_day")),
            after=_moment(data.get("slots_after")),
        )

    @classmethod
    def kept(cls, query: Mapping[str, str]) -> dict[str, str]:
        """The picker's part of a URL, to open the row's panel on the page:
        whose slots as given (even empty), the day and the time if any."""
        whose = {"slots_surgeon": query.get("slots_surgeon", "")}
        return {**whose, **cls.read(query).when()}

    def when(self) -> dict[str, str]:
        """The day and the time asked for, as URL parameters (none if none)."""
        params = {
            "slots_day": self.day.isoformat() if self.day else "",
            "slots_after": local(self.after).isoformat() if self.after else "",
        }
        return {name: value for name, value in params.items() if value}

    def params(self) -> dict[str, str]:
        """The URL's parameters for this ask, the empty ones left out."""
        whose = {"slots_surgeon": str(self.surgeon)} if self.surgeon else {}
        return {**whose, **self.when()}

    @property
    def query(self) -> str:
        return urlencode(self.params())


@dataclass(frozen=True)
class SlotPanel:
    """What the panel shows: the slots, the days to choose from, the next page."""

    ask: SlotAsk
    search: SlotSearch | None = None
    error: str = ""
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    late: bool = False
    later: SlotAsk | None = None

    @property
    def slots(self) -> list[Slot]:
        return self.search.slots if self.search else []

    @property
    def paged(self) -> bool:
        """Whether these are not the soonest slots (a later page or a day)."""
        return self.ask.after is not None or self.ask.day is not None

    @property
    def soonest(self) -> SlotAsk:
        return SlotAsk(surgeon=self.ask.surgeon)

    @property
    def none_said(self) -> str:
        """Why there is no slot, in the clinic's words."""
        return no_slots(self.search, self.ask) if self.search else ""


def _within(ask: SlotAsk, first: dt.date, last: dt.date) -> SlotAsk:
    """The ask, its day kept only inside the days slots can be on."""
    if ask.day is not None and not first <= ask.day <= last:
        return replace(ask, day=None)
    return ask


def slot_panel(visit: Visit, ask: SlotAsk, *, now: dt.datetime) -> SlotPanel:
    """A page of free slots for `ask`; a refusal becomes the panel's message."""
    first, last, late = services.slot_days(visit, now)
    ask = _within(ask, first, last)
    after = ask.after
    if ask.day is not None and (after is None or local(after).date() != ask.day):
        after = start_of_day(ask.day)
    try:
        search = services.propose_slots(
            visit=visit,
            now=now,
            after=after,
            # One more to tell whether there are more, and one for its own.
            limit=SLOT_LIMIT + 2,
            surgeon_id=ask.surgeon,
            until=ask.day or last,
        )
    except DomainError as error:
        return SlotPanel(ask, error=say(error), first_day=first, last_day=last)
    search = _but_its_own(search, visit, ask.day or first, ask.day or last, late)
    later = None
    if len(search.slots) > SLOT_LIMIT:
        search = replace(search, slots=search.slots[:SLOT_LIMIT])
        # From the minute after the last one shown: slots may overlap.
        next_after = search.slots[-1].start + dt.timedelta(minutes=1)
        later = replace(ask, after=next_after)
    return SlotPanel(ask, search, "", first, last, late, later)


def _but_its_own(
    search: SlotSearch, visit: Visit, first: dt.date, last: dt.date, late: bool
) -> SlotSearch:
    """The slots but the one the visit holds (its own time is free to it):
    a move there would change nothing but its history."""
    kept = [
        slot
        for slot in search.slots
        if (slot.start, slot.surgeon_id) != (visit.start, visit.surgeon_id)
    ]
    if len(kept) == len(search.slots):
        return search
    if kept:
        return replace(search, slots=kept)
    surgeon = str(visit.surgeon)  # the slot dropped was theirs
    return SlotSearch([], "", "all_taken", first, last, late, surgeon)


def no_slots(search: SlotSearch, ask: SlotAsk) -> str:
    """`SlotSearch.detail`, said with the clinic's dates."""
    if search.first_day is None or search.last_day is None:
        return search.detail
    first, last = day_words(search.first_day), day_words(search.last_day)
    span = f"on {first}" if first == last else f"between {first} and {last}"
    if search.why == "window_passed":
        return "The visit's window has closed: no slot can be proposed in it."
    if search.why == "no_sessions":
        said = f"{search.surgeon} has no consultation sessions {span}."
    else:
        said = f"Every slot of {search.surgeon} {span} is taken."
    if ask.day is not None:
        return f"{said} Choose another day, or see the soonest slots."
    if not search.late:
        said += " Another surgeon's slots, or an override, may fit."
    return said
