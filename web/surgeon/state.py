"""What the surgeon's page was asked for: the upcoming list's length
(`days`), the week shown (`week`, any date of it) and the lists shown whole
(`show`), read from the query and written back into every link and form, so
that an action returns to the same period, week and lists.

A value that cannot be read falls back to the default, and the page says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http.request import QueryDict
from django.urls import reverse

from web.query_text import within_reach

DAY_CHOICES = (7, 14, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366  # the API's own bound for `days`
# Rows per list: more than a surgeon reads between operations, as many as the
# desk's page. Rendering a row costs more than reading it: at 200 a list, a
# large clinic's page spent most of its time writing 400 rows of HTML.
LIST_LIMIT = 50
# Rows a list shows at first: the next reviews, the longest overdue, what a
# surgeon glances at between operations. "Show all" lists up to LIST_LIMIT,
# so a busy surgeon's page is not a hundred rows long before they ask.
FIRST_ROWS = 10
LISTS = ("upcoming", "overdue", "lost")


@dataclass(frozen=True)
class Period:
    """The upcoming list's length and the week shown, read from the query."""

    days: int
    monday: dt.date
    this_monday: dt.date
    notices: tuple[str, ...] = ()
    # The lists shown whole (up to LIST_LIMIT), in `LISTS` order.
    shown_all: tuple[str, ...] = ()

    def query(
        self, *, monday: dt.date | None = None, show: tuple[str, ...] = ()
    ) -> str:
        """The page's query string for this period, defaults left out."""
        monday = monday or self.monday
        params: list[tuple[str, str]] = []
        if self.days != DEFAULT_DAYS:
            params.append(("days", str(self.days)))
        if monday != self.this_monday:
            params.append(("week", monday.isoformat()))
        shown = set(self.shown_all) | set(show)
        params.extend(("show", name) for name in LISTS if name in shown)
        return "?" + urlencode(params) if params else ""

    def url(
        self,
        anchor: str = "",
        *,
        monday: dt.date | None = None,
        show: tuple[str, ...] = (),
    ) -> str:
        """The page's URL for this period, at `anchor` when one is given."""
        url = reverse("surgeon-home") + self.query(monday=monday, show=show)
        return f"{url}#{anchor}" if anchor else url

    def limit(self, name: str) -> int:
        """How many rows the list `name` shows."""
        return LIST_LIMIT if name in self.shown_all else FIRST_ROWS

    @property
    def show_all(self) -> dict[str, str]:
        """Each list's "Show all" link, back at the list."""
        return {name: self.url(name, show=(name,)) for name in LISTS}

    @property
    def previous_week(self) -> str:
        return self.url(monday=self.monday - dt.timedelta(days=7))

    @property
    def next_week(self) -> str:
        return self.url(monday=self.monday + dt.timedelta(days=7))

    @property
    def this_week(self) -> str:
        return self.url(monday=self.this_monday)

    @property
    def week_end(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def day_choices(self) -> list[int]:
        return sorted({*DAY_CHOICES, self.days})


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _read_days(given: QueryDict, notices: list[str]) -> int:
    raw = given.get("days", "").strip()
    if not raw:
        return DEFAULT_DAYS
    if re.fullmatch(r"[0-9]{1,3}", raw) and 1 <= int(raw) <= MAX_DAYS:
        return int(raw)
    notices.append(
        f"“{raw[:20]}” is not a number of days from 1 to {MAX_DAYS}; "
        f"showing the next {DEFAULT_DAYS} days."
    )
    return DEFAULT_DAYS


def _read_monday(given: QueryDict, today: dt.date, notices: list[str]) -> dt.date:
    raw = given.get("week", "").strip()
    if not raw:
        return monday_of(today)
    try:
        asked = dt.date.fromisoformat(raw)
    except ValueError:
        notices.append(f"“{raw[:20]}” is not a date (YYYY-MM-DD); showing this week.")
        return monday_of(today)
    if not within_reach(asked, today):
        notices.append("That week is more than five years away; showing this week.")
        return monday_of(today)
    return monday_of(asked)


def read_period(given: QueryDict, today: dt.date) -> Period:
    """`days` (1 to 366), `week` (any date of it) and `show` (the lists
    shown whole), from a query or from an action's hidden fields."""
    notices: list[str] = []
    days = _read_days(given, notices)
    monday = _read_monday(given, today, notices)
    shown = set(given.getlist("show"))
    return Period(
        days=days,
        monday=monday,
        this_monday=monday_of(today),
        notices=tuple(notices),
        shown_all=tuple(name for name in LISTS if name in shown),
    )
