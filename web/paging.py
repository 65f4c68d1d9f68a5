"""Reading one page of a list a page at a time (`?page=`): its rows, and
one more to tell whether a next page exists."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def read_page(rows: QuerySet[Any], page: int, size: int) -> tuple[int, list[Any]]:
    """The page asked for and its rows (with the first of the next page, when
    there is one). Past the end, as after moving the last row of the last
    page away without JavaScript, the last page there is: never an empty
    list while earlier pages hold rows. One query, two past the end."""
    found = list(rows[(page - 1) * size : page * size + 1])
    if not found and page > 1:
        page = max(-(-rows.count() // size), 1)
        found = list(rows[(page - 1) * size : page * size + 1])
    return page, found
