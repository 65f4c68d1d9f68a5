"""CSV the service writes, safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula, which can run commands
or send the sheet's data away (OWASP "CSV injection"). Text cells like that
get a leading `'`, which spreadsheets show as text; numbers, dates and other
non-text values are written as they are.

A spreadsheet may also split a cell where we did not: Spanish (and most
continental) Excel reads a CSV with `;` as its list separator, so the one
cell `Z;=1+1;` opens as three, the second a live formula. So a trigger
character after any separator (`;`, `,`, a tab), spaces between allowed,
gets its `'` too.

Every CSV the service produces (report exports included) is written through
`writer` or `safe_row`, never with `csv.writer` directly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A trigger character after a list separator, spaces between: the `'` goes
# right before the trigger, where the spreadsheet's cell would start.
_AFTER_SEPARATOR = re.compile(
    r"(?<=[;,\t])( *)(?=[" + re.escape("".join(_FORMULA_STARTS)) + "])"
)


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """`value`, with a `'` before each part a spreadsheet would run: at its
    start, and after each list separator."""
    if not isinstance(value, str):
        return value
    value = _AFTER_SEPARATOR.sub(r"\1'", value)
    if value.startswith(_FORMULA_STARTS):
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
