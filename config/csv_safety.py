"""CSV the service writes, safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula, which can run commands
or send the sheet's data away (OWASP "CSV injection"). Text cells like that
get a leading `'`, which spreadsheets show as text; numbers, dates and other
non-text values are written as they are.

Every CSV the service produces (report exports included) is written through
`writer` or `safe_row`, never with `csv.writer` directly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """`value`, with a leading `'` when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **options: Any) -> SafeWriter:
    """A CSV writer over `out` (a file, a StringIO, an HttpResponse)."""
    return SafeWriter(out, **options)
