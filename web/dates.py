"""Dates and times as the pages write them ("Wed 2 Dec 2026", "09:20"), in
the clinic's formats (`config.formats`), remembered once written.

A list writes the same few thousand days and slots on every page, two or
three a row, and Django's formatting costs some 25 µs each: a tenth of what
a row of fifty costs to show. What is written depends only on the value, the
format and the language, so it is kept (`lru_cache`); a time of day is
written as given, already in the clinic's time (`clinic.clock.local`).
"""

from __future__ import annotations

import datetime as dt
import functools

from django.utils.formats import date_format
from django.utils.translation import get_language


def written(value: dt.date | None, fmt: str) -> str:
    """`value` in format `fmt` (a format's name, or Django's date format
    characters); "" for None."""
    if value is None:
        return ""
    # Aware datetimes equal across zones would share an entry: keep the offset.
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    return _written(value, offset, fmt, get_language())


@functools.lru_cache(maxsize=4096)
def _written(
    value: dt.date, offset: dt.timedelta | None, fmt: str, language: str | None
) -> str:
    return date_format(value, fmt)
