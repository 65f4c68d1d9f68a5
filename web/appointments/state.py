"""The appointments view's state, read from and written to its query
string: the day, the surgeon, the search and the page, so that every action
on a row comes back to the same list.

A search finds the patient's bookings from the chosen day on, not on that
day only: a patient who phones to move "next week's control" rarely knows
its day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.http.request import QueryDict

from followup.exceptions import InvalidInput
from followup.services.parsing import parse_date
from web.query_text import (
    address,
    holds_null,
    page_number,
    whole_numbers,
    within_reach,
)

PLACE = "appointments"


def _day(raw: str, today: dt.date) -> dt.date | None:
    """The day asked for; None when it is no date, or out of reach."""
    try:
        day = parse_date(raw.strip(), field_name="day")
    except InvalidInput:
        return None
    return day if within_reach(day, today) else None


@dataclass(frozen=True)
class AppointmentsState:
    """What the URL holds: the day (default today), surgeon, search, page."""

    day: dt.date
    today: dt.date
    q: str = ""
    surgeon: int | None = None
    page: int = 1
    ignored: tuple[str, ...] = field(default=(), compare=False)

    # The shared row's questions: a day's list is in time order; a search
    # over several days shows each row's window and slot instead.
    is_call = False

    @classmethod
    def from_query(cls, query: QueryDict, *, today: dt.date) -> AppointmentsState:
        if holds_null(query):
            raise BadRequest("The list's address holds a null character.")
        ignored = []
        raw_day = query.get("day", "")
        day = _day(raw_day, today) if raw_day else today
        if day is None:
            ignored.append("day")
            day = today
        surgeon = whole_numbers(query, ("surgeon",), ignored)["surgeon"]
        page = page_number(query, ignored)
        return cls(
            day=day,
            today=today,
            q=" ".join(query.get("q", "").split())[:100],
            surgeon=surgeon,
            page=page or 1,
            ignored=tuple(ignored),
        )

    @property
    def is_today(self) -> bool:
        """One day's list, with its time column (no search)."""
        return not self.q

    def query(self, **changes: Any) -> str:
        state = replace(self, **changes)
        pairs = {
            "day": state.day.isoformat() if state.day != state.today else "",
            "surgeon": state.surgeon or "",
            "q": state.q,
            "page": state.page if state.page > 1 else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def url(self, **changes: Any) -> str:
        return address("appointments", self.query(**changes))

    @cached_property
    def here(self) -> str:
        return self.url()

    @cached_property
    def query_string(self) -> str:
        """The row's links and forms carry it: it names this place."""
        own = self.query()
        return f"place={PLACE}&{own}" if own else f"place={PLACE}"

    @cached_property
    def link_prefix(self) -> str:
        return f"{self.query_string}&"

    @property
    def hidden_fields(self) -> list[tuple[str, str]]:
        return [(str(k), str(v)) for k, v in QueryDict(self.query_string).items()]

    @property
    def previous_day_url(self) -> str:
        return self.url(day=self.day - dt.timedelta(days=1), page=1)

    @property
    def next_day_url(self) -> str:
        return self.url(day=self.day + dt.timedelta(days=1), page=1)

    @property
    def today_url(self) -> str:
        return self.url(day=self.today, page=1)

    @property
    def cleared_url(self) -> str:
        return self.url(q="", surgeon=None, page=1)

    @property
    def csv_url(self) -> str:
        """These bookings as CSV: every page, up to `web.list_csv.CSV_LIMIT`."""
        return address("appointments-csv", self.query(page=1))
