"""The CSV import of patients and procedures: all rows or none.

Rows are read as a stream, a chunk at a time, and checked with the same
rules as a single create (`procedures`), plus what only a batch can get
wrong: a row repeated in the file, a record number given with two different
names, a record number already registered to someone else. Any bad row
rejects the file: nothing is written, and the answer lists the first
`MAX_ERRORS_LISTED` problems by line number with the total count.

Everything happens in one transaction. While no row has been bad, each
checked chunk is written with bulk inserts, so 10,000 procedures and their
visits take seconds, not minutes; after the first bad row nothing more is
written, the rest is only checked, and the transaction is rolled back. Memory
holds one chunk, the first problems, and per row of the file only what later
rows are checked against (its record number's data, its procedure's key).
A header of more than `MAX_COLUMNS` columns is refused before any row is
read: the header checks cost grows with the square of its width.
Importing the same file again creates nothing: an existing patient with the
same record number and data is reused, and a procedure already registered
for the patient with the same kind and surgery date is left alone.

Columns (header row required, any order, UTF-8 with or without BOM):
record_number, given_name, family_name, birth_date, surgeon, kind,
surgery_date; optionally phone, email and reminders (`sms`, `email`,
`none`), checked as on the registration page. `surgeon` is the Surgeon's id,
the username of its login, or its full name ("Lucía Moreno", with or without
"Dr."/"Dra.", accents and capitals as you like). A patient already
registered keeps their contact details: a row's are written only for a
patient it creates.

What a Spanish Excel writes is read as it is: the separator is `,` or `;`,
as the header line uses it, and the dates are YYYY-MM-DD or DD/MM/YYYY
(also D/M/YYYY), as the file's first date is written; the answer says how
the file was read (`ImportResult.read_as`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Patient, Procedure, Surgeon
from clinic.search import fold, search_name
from core import db
from followup import rules
from followup.exceptions import Conflict, DomainError, InvalidInput
from followup.models import FollowUpRule, Visit, plan_input
from followup.services.import_file import (
    SEPARATORS,
    DateReader,
    ImportErrors,
    file_error,
    read_as,
    read_csv,
)
from followup.services.parsing import (
    check_surgery_date,
    parse_kind,
    parse_name,
    parse_record_number,
)
from followup.services.patients import Contact, check_birth_date
from followup.services.plan import bulk_create_visits, horizon, new_visit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Rows written per round trip: bounds memory and statement size, while
# keeping the number of statements per 10,000 rows in the tens.
CHUNK_SIZE = 2000
# Serialises imports on PostgreSQL: two uploads of the same file at once
# must not both find a procedure missing and both create it.
_IMPORT_LOCK_KEY = 0x5C11_1A9E
T = TypeVar("T")


@dataclass
class ImportResult:
    """What an import wrote; `unchanged` counts procedures already there;
    `read_as` how the file was read (`import_file.read_as`)."""

    rows: int = 0
    patients_created: int = 0
    procedures_created: int = 0
    visits_created: int = 0
    unchanged: int = 0
    read_as: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Row:
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


def import_procedures_csv(
    *,
    data: bytes,
    actor: User | None,
    today: dt.date,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import patients and procedures from CSV and generate their visits.

    Raises `InvalidInput` (code `import_rejected`, `errors` by line) when any
    row is bad, and `Conflict` when someone registered the same patient while
    the file was being written; in both cases nothing is written.
    `progress` is told the rows checked so far after each chunk (a job's
    progress bar); it runs inside the import's transaction.
    """
    errors = ImportErrors()
    file = read_csv(data, errors)
    dates = DateReader()
    with transaction.atomic():
        _serialise_imports()
        result, rows = _import(
            file.header,
            file.records,
            errors=errors,
            context=_Context(_Surgeons(), dates, today=today, separator=file.separator),
            actor=actor,
            progress=progress,
        )
        if errors.total:
            raise errors.reject(rows)  # rolls back what was written
    if not rows:
        raise file_error("The file has a header but no rows", line=file.header_line)
    result.read_as = read_as(file.separator, dates.form)
    return result


# --- checking the rows ------------------------------------------------------


class _Surgeons:
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
                f"Unknown surgeon {value!r}; give the surgeon's full name, "
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
                f"Surgeon {value!r} is ambiguous: {len(active)} active surgeons "
                f"have this name; give the username of their login ({logins})."
            )
        return active[0] if active else (named[0] if named else None)


# "Dr." / "Dra." before a surgeon's name, once folded.
_TITLE = re.compile(r"\Adra? ")


@dataclass
class _Context:
    """What every row is checked against."""

    surgeons: _Surgeons
    dates: DateReader
    today: dt.date
    separator: str


def _attempt(parse: Callable[[], T], *, line: int, errors: ImportErrors) -> T | None:
    try:
        return parse()
    except DomainError as exc:
        errors.add(line, exc.message)
        return None


def _birth_date(value: str, *, line: int, context: _Context) -> dt.date:
    born = context.dates.read(value, field_name="birth_date", line=line)
    check_birth_date(born, today=context.today)
    return born


def _surgery_date(
    value: str, *, line: int, context: _Context, born: dt.date | None
) -> dt.date:
    operated = context.dates.read(value, field_name="surgery_date", line=line)
    check_surgery_date(operated, today=context.today, birth_date=born)
    return operated


def _parse_row(
    line: int,
    values: dict[str, str],
    *,
    context: _Context,
    errors: ImportErrors,
) -> _Row | None:
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
    return _Row(
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


def _existing_patients(record_numbers: Sequence[str]) -> dict[str, Patient]:
    found: dict[str, Patient] = {}
    for chunk in db.chunks(record_numbers, CHUNK_SIZE):
        found.update(
            (p.record_number, p)
            for p in Patient.objects.filter(record_number__in=chunk)
        )
    return found


_ProcedureKey = tuple[int, str, dt.date]


def _existing_procedures(patient_ids: Sequence[int]) -> dict[_ProcedureKey, set[int]]:
    """The surgeons of each (patient, kind, surgery date) already registered."""
    found: dict[_ProcedureKey, set[int]] = {}
    for chunk in db.chunks(patient_ids, CHUNK_SIZE):
        rows = Procedure.objects.filter(patient_id__in=chunk).values_list(
            "patient_id", "kind", "surgery_date", "surgeon_id"
        )
        for patient_id, kind, surgery_date, surgeon_id in rows:
            found.setdefault((patient_id, kind, surgery_date), set()).add(surgeon_id)
    return found


@dataclass
class _Seen:
    """What later rows of the file are checked against, and what the import
    created so far (for the chunks still to write)."""

    # Record numbers not registered before the import: their first row.
    first_patient_row: dict[str, tuple[int, tuple[str, str, dt.date]]]
    first_procedure_line: dict[tuple[str, str, dt.date], int]
    created_patients: dict[str, int]


def _check_batch(
    rows: Sequence[_Row],
    *,
    patients: dict[str, Patient],
    procedures: dict[_ProcedureKey, set[int]],
    surgeons: _Surgeons,
    seen: _Seen,
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


def _differs_from_registered(row: _Row, patient: Patient) -> str | None:
    registered = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
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


def _differs_from_earlier_row(row: _Row, seen: _Seen) -> str | None:
    earlier_line, earlier_data = seen.first_patient_row.setdefault(
        row.record_number, (row.line, row.patient_data)
    )
    if earlier_data == row.patient_data:
        return None
    return (
        f"Record number {row.record_number} has a different name or "
        f"birth date on line {earlier_line}."
    )


def _repeats_earlier_line(row: _Row, seen: _Seen) -> str | None:
    earlier_line = seen.first_procedure_line.setdefault(row.procedure_key, row.line)
    if earlier_line == row.line:
        return None
    return f"Duplicate of line {earlier_line}: the same patient, kind and surgery date."


def _other_surgeon(
    row: _Row,
    patient: Patient,
    procedures: dict[_ProcedureKey, set[int]],
    surgeons: _Surgeons,
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


# --- writing ----------------------------------------------------------------


def _serialise_imports() -> None:
    db.advisory_xact_lock(_IMPORT_LOCK_KEY)


def _import(
    header: list[str],
    records: Iterable[tuple[int, list[str]]],
    *,
    errors: ImportErrors,
    context: _Context,
    actor: User | None,
    progress: Callable[[int], None] | None,
) -> tuple[ImportResult, int]:
    """Check every row, writing chunk by chunk until a row is bad.

    Returns what was written and the number of rows read; the caller rolls
    back when `errors` holds anything.
    """
    seen = _Seen(first_patient_row={}, first_procedure_line={}, created_patients={})
    writer = _Writer(actor=actor, today=context.today, seen=seen)
    rows_read = 0
    records = iter(records)
    while chunk := list(itertools.islice(records, CHUNK_SIZE)):
        rows: list[_Row] = []
        for line, values in chunk:
            rows_read += 1
            row = _checked_row(
                line, values, header=header, context=context, errors=errors
            )
            if row is not None:
                rows.append(row)
        numbers = {
            row.record_number: None
            for row in rows
            if row.record_number not in seen.created_patients
        }
        patients = _existing_patients(list(numbers))
        procedures = _existing_procedures([p.pk for p in patients.values()])
        _check_batch(
            rows,
            patients=patients,
            procedures=procedures,
            surgeons=context.surgeons,
            seen=seen,
            errors=errors,
        )
        if not errors.total:
            writer.write(rows, patients=patients, procedures=procedures)
        if progress is not None:
            progress(rows_read + errors.unreadable_lines)
    # Lines that were not CSV were reported, not yielded: rows all the same.
    return writer.result, rows_read + errors.unreadable_lines


def _checked_row(
    line: int,
    values: list[str],
    *,
    header: list[str],
    context: _Context,
    errors: ImportErrors,
) -> _Row | None:
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


class _Writer:
    """Writes checked chunks: new patients, new procedures, their visits."""

    def __init__(self, *, actor: User | None, today: dt.date, seen: _Seen) -> None:
        self.actor = actor
        self.seen = seen
        self.result = ImportResult()
        self.rule_rows = {rule.code: rule for rule in FollowUpRule.objects.active()}
        self.specs = [rule.as_spec() for rule in self.rule_rows.values()]
        self.until = horizon(today)

    def write(
        self,
        rows: Sequence[_Row],
        *,
        patients: dict[str, Patient],
        procedures: dict[_ProcedureKey, set[int]],
    ) -> None:
        """One chunk; `patients` and `procedures` were registered before."""
        self.result.rows += len(rows)
        self._write_patients(rows, patients)
        inserted = self._write_procedures(rows, patients, procedures)
        # The same plan a single create applies (`plan.replan` on a
        # procedure with no visits yet), built without a query per procedure.
        visits: list[Visit] = [
            new_visit(procedure, self.rule_rows[planned.rule_code], planned)
            for procedure in inserted
            for planned in rules.plan(
                plan_input(procedure), self.specs, horizon=self.until
            )
        ]
        self.result.visits_created += len(
            bulk_create_visits(visits, actor=self.actor, action="generated")
        )

    def _write_patients(
        self, rows: Sequence[_Row], patients: dict[str, Patient]
    ) -> None:
        created = self.seen.created_patients
        new_patients: dict[str, Patient] = {}
        for row in rows:
            number = row.record_number
            if number not in patients and number not in created:
                new_patients.setdefault(
                    number,
                    Patient(
                        record_number=number,
                        given_name=row.given_name,
                        family_name=row.family_name,
                        birth_date=row.birth_date,
                        # Inserted in bulk, without `save`: its search name here.
                        search_name=search_name(row.given_name, row.family_name),
                        **row.contact.as_dict(),
                    ),
                )
        try:
            with transaction.atomic():
                db.insert_many(list(new_patients.values()), now=timezone.now())
        except IntegrityError:
            # A clerk registered one of these record numbers since we looked.
            raise Conflict(
                "A patient in this file was registered by someone else during "
                "the import; nothing was imported. Import the file again.",
                code="import_conflict",
            ) from None
        created.update((number, p.pk) for number, p in new_patients.items())
        self.result.patients_created += len(new_patients)

    def _write_procedures(
        self,
        rows: Sequence[_Row],
        patients: dict[str, Patient],
        procedures: dict[_ProcedureKey, set[int]],
    ) -> list[Procedure]:
        created = self.seen.created_patients
        to_create: list[Procedure] = []
        for row in rows:
            number = row.record_number
            patient_id = patients[number].pk if number in patients else created[number]
            if (patient_id, row.kind, row.surgery_date) in procedures:
                self.result.unchanged += 1
                continue
            to_create.append(
                Procedure(
                    patient_id=patient_id,
                    surgeon=row.surgeon,
                    kind=row.kind,
                    surgery_date=row.surgery_date,
                )
            )
        inserted = db.insert_many(to_create, now=timezone.now())
        self.result.procedures_created += len(inserted)
        return inserted
