"""Reading an import's CSV file: the text, the header, the numbered rows,
and the problems found, counted all and the first `MAX_ERRORS_LISTED` kept.

The rows stream: the file is never split into a list of rows at once, so a
large bad file costs little memory (`followup.services.importing` checks and
writes them a chunk at a time).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from core.quoting import quoted
from followup.exceptions import InvalidInput

COLUMNS = (
    "record_number",
    "given_name",
    "family_name",
    "birth_date",
    "surgeon",
    "kind",
    "surgery_date",
)
# May be left out; an empty cell is "none given" (reminders: `none`).
OPTIONAL_COLUMNS = ("phone", "email", "reminders")
REJECTED = "import_rejected"
# A few dozen: the file has 7 columns, plus what a spreadsheet pads.
MAX_COLUMNS = 32
# Problems listed in a rejection; the answer also gives their total.
MAX_ERRORS_LISTED = 100
# The separators a file may use, as the import names them: a Spanish Excel
# writes `;` (its decimal separator is the comma).
SEPARATORS = {",": "comma", ";": "semicolon"}
# The date forms a file may use, one per file: ISO, or the day first as a
# Spanish Excel writes it (2/3/1950 or 02/03/1950).
ISO_DATES = "yyyy-mm-dd"
DAY_FIRST_DATES = "dd/mm/yyyy"
_DATE_FORMS = {
    ISO_DATES: re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    DAY_FIRST_DATES: re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
}


class ImportErrors:
    """The file's problems: counted all, the first by line kept.

    A row's problems arrive together (its own, or one against the batch, or
    its CSV syntax), so a new line number means one more bad row.
    """

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self.total = 0
        self.bad_rows = 0
        self.unreadable_lines = 0
        self._last_line = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if line != self._last_line:
            self.bad_rows += 1
            self._last_line = line
        self.items.append({"line": line, "error": message})
        if len(self.items) >= 2 * MAX_ERRORS_LISTED:
            self._keep_first()

    def _keep_first(self) -> None:
        # Stable: a line's problems keep their order.
        self.items.sort(key=lambda item: int(str(item["line"])))
        del self.items[MAX_ERRORS_LISTED:]

    def reject(self, rows: int) -> InvalidInput:
        """The file's rejection; `rows` counts the file's rows, bad ones too."""
        self._keep_first()
        detail = f"{self.bad_rows} of {rows} rows are invalid; nothing was imported."
        if self.total > len(self.items):
            detail += (
                f" The first {len(self.items)} of {self.total} problems are listed."
            )
        return InvalidInput(
            detail, code=REJECTED, errors=self.items, error_count=self.total
        )


def file_error(message: str, *, line: int = 1) -> InvalidInput:
    return InvalidInput(
        f"{message}; nothing was imported.",
        code=REJECTED,
        errors=[{"line": line, "error": f"{message}."}],
    )


class CsvFile(NamedTuple):
    """A file read by `read_csv`."""

    header_line: int
    header: list[str]
    # The non-blank rows, read as they are iterated, with their first line.
    records: Iterator[tuple[int, list[str]]]
    # `,` or `;`, as the header line uses it.
    separator: str


def read_csv(data: bytes, errors: ImportErrors) -> CsvFile:
    """The header's line, the header, the non-blank rows (read as they are
    iterated), each with the line it starts on, and the separator.

    Lines that are not valid CSV go to `errors`, to be reported with the
    problems of the other rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise file_error(
            f"The file is not UTF-8 text (first bad byte on line {line}); "
            "save it as 'CSV UTF-8' and import it again",
            line=line,
        ) from None
    if "\x00" in text:
        # PostgreSQL cannot store it; a UTF-16 file read as UTF-8 is full of it.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise file_error(
            f"The file holds a NUL character (first on line {line}), so it is "
            "not CSV text; save it as 'CSV UTF-8' and import it again",
            line=line,
        )
    if not text.strip():
        raise file_error(
            "The file is empty; it needs a header row with the columns "
            + ", ".join(COLUMNS)
        )
    separator = detect_separator(text)
    reader = csv.reader(_text_lines(text), delimiter=separator)
    lines = _numbered(reader, errors)
    header_line, header = next(lines, (1, []))
    header = _without_trailing_blanks(header)
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(
            f"The header row has {len(header)} columns; an import takes at most "
            f"{MAX_COLUMNS} (the columns are {', '.join(COLUMNS)}); nothing was "
            "imported.",
            code="too_many_columns",
            errors=[{"line": header_line, "error": "Too many columns."}],
        )
    header = [name.strip().lower() for name in header]
    _check_header(header, line=header_line)
    return CsvFile(header_line, header, lines, separator)


def detect_separator(text: str) -> str:
    """`;` when the first non-blank line (the header) has more semicolons
    than commas, else `,`: no column's name holds either."""
    for line in _text_lines(text):
        if line.strip():
            return ";" if line.count(";") > line.count(",") else ","
    return ","


def estimate_rows(data: bytes) -> int:
    """The file's rows as its line ends after the header count them (a
    blank line or a line break inside quotes counts one too many), once the
    file-level checks `read_csv` makes have passed (not UTF-8, a bad header:
    `InvalidInput`). Milliseconds for a 60,000-row file, where reading every
    row (`count_rows`) takes 0.2 to 0.6 s of the request that accepts it."""
    header_line = read_csv(data, ImportErrors()).header_line
    ends = max(data.count(b"\n"), data.count(b"\r"))
    lines = ends + (0 if data.endswith((b"\n", b"\r")) else 1)
    return max(0, lines - header_line)


def count_rows(data: bytes) -> int:
    """The file's rows exactly (non-blank records and unreadable lines)."""
    errors = ImportErrors()
    records = read_csv(data, errors).records
    return sum(1 for _ in records) + errors.unreadable_lines


# A line with its end, as a file opened with newline="" gives it to csv.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _text_lines(text: str) -> Iterator[str]:
    """The text's lines, one at a time: no second copy of a 20 MB file (an
    io.StringIO holds one, four bytes a character)."""
    return (match.group() for match in _LINE.finditer(text))


def _numbered(
    reader: Iterator[list[str]], errors: ImportErrors
) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with their first line: quoted fields may span lines."""
    line_num = 0
    while True:
        first = line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.add(first, f"This line is not valid CSV ({exc})")
            errors.unreadable_lines += 1
            line_num = getattr(reader, "line_num", first)
            continue
        line_num = getattr(reader, "line_num", first)
        if any(value.strip() for value in row):
            yield first, row


def _without_trailing_blanks(values: list[str]) -> list[str]:
    # Spreadsheets pad rows with empty cells up to their widest row.
    end = len(values)
    while end and not values[end - 1].strip():
        end -= 1
    return values[:end]


def _check_header(header: list[str], *, line: int) -> None:
    known = (*COLUMNS, *OPTIONAL_COLUMNS)
    unknown = [name for name in header if name and name not in known]
    if "" in header:
        unknown.append(f"with no name (column {header.index('') + 1})")
    missing = [name for name in COLUMNS if name not in header]
    counts = Counter(header)
    repeated = sorted(name for name, count in counts.items() if name and count > 1)
    problems = []
    if unknown:
        problems.append(
            "unknown column(s) "
            + ", ".join(
                n if n.startswith("with no name") else quoted(n) for n in unknown
            )
        )
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if repeated:
        problems.append("repeated column(s) " + ", ".join(repeated))
    if problems:
        raise file_error(
            "The header row has "
            + "; ".join(problems)
            + ". The columns are "
            + ", ".join(COLUMNS)
            + ", and optionally "
            + ", ".join(OPTIONAL_COLUMNS),
            line=line,
        )


class DateReader:
    """The file's dates: the first written in a known form decides the form
    of all of them, so a file mixing ISO and day-first dates gets a row
    error on each date written the other way."""

    def __init__(self) -> None:
        self.form: str | None = None
        self._decided_on = 0

    @property
    def expected(self) -> str:
        if self.form is None:
            return f"{ISO_DATES.upper()} or {DAY_FIRST_DATES.upper()}"
        return self.form.upper()

    def read(self, value: str, *, field_name: str, line: int) -> dt.date:
        text = value.strip()
        if not text:
            raise InvalidInput(f"{field_name} is required ({self.expected}).")
        found = next(
            (
                (form, match)
                for form, pattern in _DATE_FORMS.items()
                if (match := pattern.fullmatch(text)) is not None
            ),
            None,
        )
        if found is None:
            raise InvalidInput(
                f"{field_name} {quoted(value)} is not a date; write it as "
                f"{self.expected}.",
                code="invalid_date",
            )
        form, match = found
        if self.form is not None and form != self.form:
            raise InvalidInput(
                f"{field_name} {quoted(value)} is written as {form.upper()}, but this "
                f"file's dates are {self.expected} (as from line "
                f"{self._decided_on}); write it as {self.expected}.",
                code="invalid_date",
            )
        try:
            day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise InvalidInput(
                f"{field_name} {quoted(value)} is not a real date ({form.upper()}).",
                code="invalid_date",
            ) from None
        if self.form is None:
            self.form, self._decided_on = form, line
        return day


def read_as(separator: str, dates: str | None) -> dict[str, str]:
    """How a file was read, as an import's answer gives it."""
    return {"separator": separator, "dates": dates or ISO_DATES}


def read_as_sentence(read_as: Mapping[str, str] | None) -> str:
    """ "Read as a semicolon-separated file with dates as dd/mm/yyyy." ("" for
    an import recorded before `read_as` was)."""
    if not read_as:
        return ""
    separator = SEPARATORS.get(read_as.get("separator", ""), "comma")
    dates = read_as.get("dates", ISO_DATES)
    return f"Read as a {separator}-separated file with dates as {dates}."
