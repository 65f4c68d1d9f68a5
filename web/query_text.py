"""Reading a query string: whether it holds a NUL (read by the middleware
for every page's own query string, and by the lists for the one a form posts
back), and a whole number a query may hold."""

from __future__ import annotations

from django.http.request import QueryDict
from django.urls import reverse

from followup.api.base import MAX_ID

NUL = "\x00"


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


def address(name: str, query: str) -> str:
    """The URL named `name`, with `query` when there is one."""
    url = reverse(name)
    return f"{url}?{query}" if query else url
