"""The worklist's state, read from and written to its query string: the
tab, search, filters, sort and page, so every action returns to the same
list (one URL for the page, the htmx partial and the plain-form redirect)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.http.request import QueryDict

from followup.models import VisitQuerySet, worklist
from followup.models.worklist import CALL, DEFAULT_SORT, SORTS, TABS, TODAY, Bucket
from web.query_text import address, holds_null, whole_numbers
from web.visit_rows import ColumnHeader


def calendar_date(value: str | None) -> dt.date | None:
    """A date as a date field sends it (2026-12-01), or None."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    q: str = ""
    surgeon: int | None = None
    rule: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None

    def apply(
        self, visits: VisitQuerySet, *, patients: list[int] | None = None
    ) -> VisitQuerySet:
        """`visits` as filtered; `patients`, when given, are those the search
        found (`worklist.matching_patients`), already read for the page."""
        if self.q:
            found = worklist.matching_patients(self.q) if patients is None else patients
            visits = visits.of_patients(found)
        if self.surgeon is not None:
            visits = visits.seen_by(self.surgeon)
        if self.rule is not None:
            visits = visits.filter(rule_id=self.rule)
        if self.due_from or self.due_to:
            visits = visits.due_between(self.due_from, self.due_to)
        return visits


@dataclass(frozen=True)
class DeskState:
    """What the URL's query string holds: the tab, filters, sort and page."""

    tab: str = Bucket.ALL
    q: str = ""
    surgeon: int | None = None
    rule: int | None = None
    # Due on or after `due_from`, on or before `due_to`: either may be open.
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    # Values that were given but mean nothing here: said once, then dropped.
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: QueryDict) -> DeskState:
        """The state a query string holds; one with a NUL is a 400.

        Pages' own query strings are refused by `web.middleware`; this one
        may come from a form's `back` field, posted with an action.
        """
        if holds_null(query):
            raise BadRequest("The list's address holds a null character.")
        ignored = []
        tab = query.get("tab", Bucket.ALL)
        if tab not in TABS:
            ignored.append("tab")
            tab = Bucket.ALL
        numbers = whole_numbers(query, ("surgeon", "rule", "page"), ignored)
        dates = {}
        for name in ("due_from", "due_to"):
            raw = query.get(name, "")
            dates[name] = calendar_date(raw)
            if raw and dates[name] is None:
                ignored.append(name)
        if (
            dates["due_from"]
            and dates["due_to"]
            and dates["due_from"] > dates["due_to"]
        ):
            ignored.append("due_to (before due_from)")
            dates["due_to"] = None
        sort = query.get("sort", DEFAULT_SORT)
        if sort not in SORTS:
            ignored.append("sort")
            sort = DEFAULT_SORT
        return cls(
            tab=tab,
            q=" ".join(query.get("q", "").split())[:100],
            surgeon=numbers["surgeon"],
            rule=numbers["rule"],
            due_from=dates["due_from"],
            due_to=dates["due_to"],
            sort=sort,
            page=max(numbers["page"] or 1, 1),
            ignored=tuple(ignored),
        )

    @property
    def filters(self) -> Filters:
        return Filters(
            q=self.q,
            surgeon=self.surgeon,
            rule=self.rule,
            due_from=self.due_from,
            due_to=self.due_to,
        )

    @property
    def filtered(self) -> bool:
        """Whether any filter narrows the list (the tab aside)."""
        return self.filters != Filters()

    @property
    def is_today(self) -> bool:
        return self.tab == TODAY

    @property
    def is_call(self) -> bool:
        return self.tab == CALL

    @property
    def shows_last_contact(self) -> bool:
        """Every worklist row shows its last contact (`tab_rows` reads it)."""
        return True

    def query(self, **changes: Any) -> str:
        """The query string of this state, with `changes`; defaults left out."""
        state = replace(self, **changes)
        pairs = {
            "tab": state.tab if state.tab != Bucket.ALL else "",
            "q": state.q,
            "surgeon": state.surgeon or "",
            "rule": state.rule or "",
            "due_from": state.due_from.isoformat() if state.due_from else "",
            "due_to": state.due_to.isoformat() if state.due_to else "",
            "sort": state.sort if state.sort != DEFAULT_SORT else "",
            "page": state.page if state.page > 1 else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    @cached_property
    def query_string(self) -> str:
        """This state's own query string: read once however many rows show it."""
        return self.query()

    @cached_property
    def link_prefix(self) -> str:
        """The query string ready for one more parameter: "" or "...&"."""
        return f"{self.query_string}&" if self.query_string else ""

    @cached_property
    def here(self) -> str:
        """This state's own URL."""
        return self.url()

    def url(self, **changes: Any) -> str:
        return address("desk", self.query(**changes))

    @property
    def csv_url(self) -> str:
        """The CSV of this list: every page of it, up to `web.list_csv.CSV_LIMIT`."""
        return address("desk-csv", self.query(page=1))

    def tab_url(self, tab: str) -> str:
        return self.url(tab=tab, page=1)

    def sort_url(self, key: str) -> str:
        """The header's link: its key ascending, or descending when it is on."""
        return self.url(sort=f"-{key}" if self.sort == key else key, page=1)

    @property
    def hidden_fields(self) -> list[tuple[str, str]]:
        """This state as hidden inputs, for a GET form that must keep it."""
        pairs = QueryDict(self.query_string).items()
        return [(name, str(value)) for name, value in pairs]

    @property
    def cleared_url(self) -> str:
        return self.url(
            q="", surgeon=None, rule=None, due_from=None, due_to=None, page=1
        )

    def sort_header(self, key: str, label: str) -> ColumnHeader:
        aria_sort = ""
        if self.sort == key:
            aria_sort = "ascending"
        elif self.sort == f"-{key}":
            aria_sort = "descending"
        return ColumnHeader(label, self.sort_url(key), aria_sort)
