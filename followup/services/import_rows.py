"""Checking an import's rows: each row as a single create checks it, and
what only the whole file and the clinic's records can show.

`followup.services.import_file` reads the CSV; `followup.services.importing`
writes the rows checked here, a chunk at a time, in one transaction.

Columns (header row required, any order, UTF-8 with or without BOM):
record_number, given_name, family_name, birth_date, surgeon, kind,
surgery_date; optionally phone, email and reminders (`sms`, `email`,
`none`), checked as on the registration page. `surgeon` is the Surgeon's id,
the username of its login, or its full name ("Lucía Moreno", with or without
"Dr."/"Dra.", accents and capitals as you like).

The dates are YYYY-MM-DD or DD/MM/YYYY (also D/M/YYYY), as the file's first
date is written (`import_file.DateReader`).

A batch can get wrong what a single create cannot: a row repeated in the
file, a record number given with two different names, a record number
already registered with other data, a procedure already registered with
another surgeon.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from clinic.models import Patient, Surgeon
from clinic.search import fold
from core.quoting import quoted
from followup.exceptions import DomainError, InvalidInput
from followup.services.import_file import SEPARATORS, DateReader, ImportErrors
from followup.services.parsing import (
    check_surgery_date,
    parse_kind,
    parse_name,
    parse_record_number,
)
from followup.services.patients import Contact, check_birth_date

T = TypeVar("T")


@dataclass
class Row:
    """A row that passed the single-create checks."""

    line: int
    record_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    surgeon: Surgeon
    kind: str
    surgery_date: dt.date
    contact: Contact

    @property
    def patient_data(self) -> tuple[str, str, dt.date]:
        return (self.given_name, self.family_name, self.birth_date)

    @property
    def procedure_key(self) -> tuple[str, str, dt.date]:
        return (self.record_number, self.kind, self.surgery_date)


class Surgeons:
    """Surgeons by id, by login username or by full name, as a row may
    name them."""

    def __init__(self) -> None:
        self.by_id: dict[str, Surgeon] = {}
        self.by_username: dict[str, Surgeon] = {}
        self.by_name: dict[str, list[Surgeon]] = {}
        for surgeon in Surgeon.objects.select_related("user"):
            self.by_id[str(surgeon.pk)] = surgeon
            if surgeon.user is not None:
                self.by_username[surgeon.user.username] = surgeon
            name = fold(f"{surgeon.given_name} {surgeon.family_name}")
            self.by_name.setdefault(name, []).append(surgeon)

    def find(self, value: str) -> Surgeon:
        value = value.strip()
        if not value:
            raise InvalidInput("surgeon is required.")
        surgeon = (
            self.by_id.get(value) or self.by_username.get(value) or self._by_name(value)
        )
        if surgeon is None:
            raise InvalidInput(
                f"Unknown surgeon {quoted(value)}; give the surgeon's full name, "
                "id or the username of their login."
            )
        if not surgeon.active:
            raise InvalidInput(f"{surgeon} ({value}) is no longer active.")
        return surgeon

    def _by_name(self, value: str) -> Surgeon | None:
        """The surgeon of this full name ("Dr."/"Dra." or not); the active
        one when an inactive one shares it; two active: ambiguous."""
        name = _TITLE.sub("", fold(value))
        named = self.by_name.get(name, [])
        active = [surgeon for surgeon in named if surgeon.active]
        if len(active) > 1:
            logins = ", ".join(
                s.user.username if s.user is not None else f"id {s.pk}" for s in active
            )
            raise InvalidInput(
                f"Surgeon {quoted(value)} is ambiguous: {len(active)} active surgeons "
                f"have this name; give the username of their login ({logins})."
            )
        return active[0] if active else (named[0] if named else None)


# "Dr." / "Dra." before a surgeon's name, once folded.
_TITLE = re.compile(r"\Adra? ")


@dataclass
class RowContext:
    """What every row is checked against."""

    surgeons: Surgeons
    dates: DateReader
    today: dt.date
    separator: str


def _attempt(parse: Callable[[], T], *, line: int, errors: ImportErrors) -> T | None:
    try:
        return parse()
    except DomainError as exc:
        errors.add(line, exc.message)
        return None


def _birth_date(value: str, *, line: int, context: RowContext) -> dt.date:
    born = context.dates.read(value, field_name="birth_date", line=line)
    check_birth_date(born, today=context.today)
    return born


def _surgery_date(
    value: str, *, line: int, context: RowContext, born: dt.date | None
) -> dt.date:
    operated = context.dates.read(value, field_name="surgery_date", line=line)
    check_surgery_date(operated, today=context.today, birth_date=born)
    return operated


def _parse_row(
    line: int,
    values: dict[str, str],
    *,
    context: RowContext,
    errors: ImportErrors,
) -> Row | None:
    """One row checked as a single create checks it; None when it is bad."""

    def attempt(parse: Callable[[], T]) -> T | None:
        return _attempt(parse, line=line, errors=errors)

    record_number = attempt(lambda: parse_record_number(values["record_number"]))
    given_name = attempt(
        lambda: parse_name(values["given_name"], field_name="given_name")
    )
    family_name = attempt(
        lambda: parse_name(values["family_name"], field_name="family_name")
    )
    birth_date = attempt(
        lambda: _birth_date(values["birth_date"], line=line, context=context)
    )
    surgeon = attempt(lambda: context.surgeons.find(values["surgeon"]))
    kind = attempt(lambda: parse_kind(values["kind"].strip()))
    surgery_date = attempt(
        lambda: _surgery_date(
            values["surgery_date"], line=line, context=context, born=birth_date
        )
    )
    contact = attempt(lambda: _contact(values))
    if (
        record_number is None
        or given_name is None
        or family_name is None
        or birth_date is None
        or surgeon is None
        or kind is None
        or surgery_date is None
        or contact is None
    ):
        return None
    return Row(
        line=line,
        record_number=record_number,
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        surgeon=surgeon,
        kind=kind,
        surgery_date=surgery_date,
        contact=contact,
    )


def _contact(values: dict[str, str]) -> Contact:
    """The optional columns; a phone written by the clinic's own CSV export
    carries a leading `'` (`core.csv_safety`), which is not part of it."""
    return Contact.parse(
        phone=values.get("phone", "").strip().removeprefix("'"),
        email=values.get("email", ""),
        reminders=values.get("reminders", ""),
    )


ProcedureKey = tuple[int, str, dt.date]


@dataclass
class Seen:
    """What later rows of the file are checked against, and what the import
    created so far (for the chunks still to write)."""

    # Record numbers not registered before the import: their first row.
    first_patient_row: dict[str, tuple[int, tuple[str, str, dt.date]]]
    first_procedure_line: dict[tuple[str, str, dt.date], int]
    created_patients: dict[str, int]


def check_batch(
    rows: Sequence[Row],
    *,
    patients: dict[str, Patient],
    procedures: dict[ProcedureKey, set[int]],
    surgeons: Surgeons,
    seen: Seen,
    errors: ImportErrors,
) -> None:
    """What only the whole file and the clinic's records can show.

    `patients` and `procedures` are those registered before the import.
    """
    for row in rows:
        patient = patients.get(row.record_number)
        problem = (
            _differs_from_registered(row, patient)
            if patient is not None
            else _differs_from_earlier_row(row, seen)
        ) or _repeats_earlier_line(row, seen)
        if problem is None and patient is not None:
            problem = _other_surgeon(row, patient, procedures, surgeons)
        if problem is not None:
            errors.add(row.line, problem)


def _differs_from_registered(row: Row, patient: Patient) -> str | None:
    # Composed, as `parse_name` gives the row's (a name saved before it did
    # may hold its accents apart).
    registered = {
        "given_name": unicodedata.normalize("NFC", patient.given_name),
        "family_name": unicodedata.normalize("NFC", patient.family_name),
        "birth_date": patient.birth_date,
    }
    ours = dict(zip(registered, row.patient_data, strict=True))
    differs = [
        f"{name} {value}" if name == "birth_date" else f"{name} {value!r}"
        for name, value in registered.items()
        if ours[name] != value
    ]
    if not differs:
        return None
    return (
        f"Record number {row.record_number} is already registered "
        f"with {', '.join(differs)}; correct the row, or the "
        "patient's record first."
    )


def _differs_from_earlier_row(row: Row, seen: Seen) -> str | None:
    earlier_line, earlier_data = seen.first_patient_row.setdefault(
        row.record_number, (row.line, row.patient_data)
    )
    if earlier_data == row.patient_data:
        return None
    return (
        f"Record number {row.record_number} has a different name or "
        f"birth date on line {earlier_line}."
    )


def _repeats_earlier_line(row: Row, seen: Seen) -> str | None:
    earlier_line = seen.first_procedure_line.setdefault(row.procedure_key, row.line)
    if earlier_line == row.line:
        return None
    return f"Duplicate of line {earlier_line}: the same patient, kind and surgery date."


def _other_surgeon(
    row: Row,
    patient: Patient,
    procedures: dict[ProcedureKey, set[int]],
    surgeons: Surgeons,
) -> str | None:
    registered_surgeons = procedures.get(
        (patient.pk, row.kind, row.surgery_date), set()
    )
    if not registered_surgeons or row.surgeon.pk in registered_surgeons:
        return None
    names = ", ".join(
        str(surgeons.by_id[str(pk)]) for pk in sorted(registered_surgeons)
    )
    return (
        f"This {row.kind} procedure of {row.surgery_date} is already "
        f"registered for record number {row.record_number} with {names}; "
        "correct the surgeon in the row or in the clinic's records."
    )


def checked_row(
    line: int,
    values: list[str],
    *,
    header: list[str],
    context: RowContext,
    errors: ImportErrors,
) -> Row | None:
    if not any(value.strip() for value in values[len(header) :]):
        # Spreadsheets pad rows with empty cells up to their widest row.
        values = values[: len(header)]
    if len(values) != len(header):
        errors.add(
            line,
            f"This row has {len(values)} values; the header has "
            f"{len(header)} columns (a {SEPARATORS[context.separator]} inside "
            "a name needs quotes).",
        )
        return None
    return _parse_row(
        line, dict(zip(header, values, strict=True)), context=context, errors=errors
    )
