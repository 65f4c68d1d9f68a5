"""Reading a query string: whether it holds a NUL (read by the middleware
for every page's own query string, and by the lists for the one a form posts
back), a whole number a query may hold, a page a list can be read at,
whether a day asked for is within a page's reach, and whether a filter's id
is one its select offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TypeVar

from django.http.request import QueryDict
from django.urls import reverse

from followup.api.base import MAX_ID

S = TypeVar("S")

NUL = "\x00"
# How far from today a page's day or week may be; past it a typo, not a plan
# (and near year 1 or 9999 the day before or after does not exist).
DAY_REACH = dt.timedelta(days=5 * 366)
# The last page a list pages to (50 million rows at 50 a page). Past it the
# offset of the page's first row passes the database's integers and the
# query fails; no list is that long, so it is a typo.
MAX_PAGE = 1_000_000


def within_reach(day: dt.date, today: dt.date) -> bool:
    return abs(day - today) <= DAY_REACH


def holds_null(query: QueryDict) -> bool:
    """A NUL in a parameter's name or value. PostgreSQL cannot compare text
    holding one (the query fails), and no link of ours makes one."""
    return any(
        NUL in name or any(NUL in value for value in values)
        for name, values in query.lists()
    )


def whole_number(value: str | None) -> int | None:
    """An integer the database can hold (SQLite's and PostgreSQL's bigint), or
    None: a larger one would fail in the query (SQLite) instead of matching
    nothing."""
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if -MAX_ID <= number <= MAX_ID else None


def whole_numbers(
    query: QueryDict, names: tuple[str, ...], ignored: list[str]
) -> dict[str, int | None]:
    """The query's `names` as whole numbers (None when absent); a value given
    that is not one is named in `ignored` and read as absent."""
    numbers = {}
    for name in names:
        raw = query.get(name, "")
        numbers[name] = whole_number(raw)
        if raw and numbers[name] is None:
            ignored.append(name)
    return numbers


def page_number(query: QueryDict, ignored: list[str] | None = None) -> int | None:
    """The query's `page` when it is one a list can be read at (1 to
    `MAX_PAGE`), else None; a value given that is not one is named in
    `ignored`."""
    raw = query.get("page", "")
    page = whole_number(raw)
    if page is not None and not 1 <= page <= MAX_PAGE:
        page = None
    if raw and page is None and ignored is not None:
        ignored.append("page")
    return page


def address(name: str, query: str) -> str:
    """The URL named `name`, with `query` when there is one."""
    url = reverse(name)
    return f"{url}?{query}" if query else url


# A value left out, named as its field's label names it (the rest are named
# by their labels already: day, surgeon, page...).
_LABELS = {
    "rule": "visit kind",
    "due_from": "due from",
    "due_to": "due to",
    "due_to (before due_from)": "due to (before due from)",
}


def left_out(ignored: Iterable[str]) -> str:
    """The values a list left out, as its note says them: "day, visit kind"."""
    return ", ".join(_LABELS.get(name, name) for name in ignored)


def offered_only(state: S, **choices: Iterable[int]) -> S:
    """`state` (a list's, with `ignored`) with each filter named in `choices`
    read as absent when its id is not one its select offers: a surgeon
    since deactivated, a rule switched off, an id typed or bookmarked. The
    list was filtered by it (an unknown id matched nobody) while the select
    said "Every surgeon"; it is named in `ignored` instead, like any other
    value not understood."""
    values: Any = state
    dropped = [
        name
        for name, known in choices.items()
        if getattr(values, name) is not None and getattr(values, name) not in known
    ]
    if not dropped:
        return state
    return replace(  # type: ignore[type-var]
        values, **dict.fromkeys(dropped), ignored=(*values.ignored, *dropped)
    )
