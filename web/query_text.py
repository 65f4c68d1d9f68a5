"""Whether a query string holds a NUL: read by the middleware for every
page's own query string, and by the desk for the one a form posts back."""

from __future__ import annotations

from django.http.request import QueryDict

NUL = "\x00"


def holds_null(query: QueryDict) -> bool:
    """A NUL in a parameter's name or value. PostgreSQL cannot compare text
    holding one (the query fails), and no link of ours makes one."""
    return any(
        NUL in name or any(NUL in value for value in values)
        for name, values in query.lists()
    )
