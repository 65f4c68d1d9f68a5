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

`import_file` reads the file and `import_rows` checks its rows; this module
writes them: the transaction, the lock, the bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Patient, Procedure, ProcedureStatus
from clinic.search import search_name
from core import db, locks
from followup import rules
from followup.exceptions import Conflict
from followup.models import FollowUpRule, Visit, plan_input
from followup.services.import_file import (
    DateReader,
    ImportErrors,
    file_error,
    read_as,
    read_csv,
)
from followup.services.import_rows import (
    ProcedureKey,
    Row,
    RowContext,
    Seen,
    Surgeons,
    check_batch,
    checked_row,
)
from followup.services.plan import bulk_create_visits, horizon, new_visit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Rows written per round trip: bounds memory and statement size, while
# keeping the number of statements per 10,000 rows in the tens.
CHUNK_SIZE = 2000
# Serialises imports on PostgreSQL: two uploads of the same file at once
# must not both find a procedure missing and both create it.
_IMPORT_LOCK_KEY = 0x5C11_1A9E


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
            context=RowContext(
                Surgeons(), dates, today=today, separator=file.separator
            ),
            actor=actor,
            progress=progress,
        )
        if errors.total:
            raise errors.reject(rows)  # rolls back what was written
    if not rows:
        raise file_error("The file has a header but no rows", line=file.header_line)
    result.read_as = read_as(file.separator, dates.form)
    return result


def _existing_patients(record_numbers: Sequence[str]) -> dict[str, Patient]:
    """The registered patients of these numbers, locked as a single create
    locks its patient (`procedures.create_procedure`): a procedure registered
    by hand meanwhile waits for the import and then finds its row, rather
    than deadlocking with it (or doubling it) at the commit."""
    found: dict[str, Patient] = {}
    for chunk in db.chunks(record_numbers, CHUNK_SIZE):
        found.update(
            (p.record_number, p)
            for p in Patient.objects.select_for_update(no_key=True)
            .filter(record_number__in=chunk)
            .order_by("pk")
        )
    return found


def _existing_procedures(patient_ids: Sequence[int]) -> dict[ProcedureKey, set[int]]:
    """The surgeons of each (patient, kind, surgery date) already registered.

    A procedure entered in error is not one: its corrected row (another
    surgeon, say) registers the procedure, as a single create would. A
    cancelled one stays, so the same file again does not bring it back.
    """
    found: dict[ProcedureKey, set[int]] = {}
    registered = Procedure.objects.exclude(status=ProcedureStatus.ENTERED_IN_ERROR)
    for chunk in db.chunks(patient_ids, CHUNK_SIZE):
        rows = registered.filter(patient_id__in=chunk).values_list(
            "patient_id", "kind", "surgery_date", "surgeon_id"
        )
        for patient_id, kind, surgery_date, surgeon_id in rows:
            found.setdefault((patient_id, kind, surgery_date), set()).add(surgeon_id)
    return found


def _serialise_imports() -> None:
    locks.advisory_xact_lock(_IMPORT_LOCK_KEY)


def _import(
    header: list[str],
    records: Iterable[tuple[int, list[str]]],
    *,
    errors: ImportErrors,
    context: RowContext,
    actor: User | None,
    progress: Callable[[int], None] | None,
) -> tuple[ImportResult, int]:
    """Check every row, writing chunk by chunk until a row is bad.

    Returns what was written and the number of rows read; the caller rolls
    back when `errors` holds anything.
    """
    seen = Seen(first_patient_row={}, first_procedure_line={}, created_patients={})
    writer = _Writer(actor=actor, today=context.today, seen=seen)
    rows_read = 0
    records = iter(records)
    while chunk := list(itertools.islice(records, CHUNK_SIZE)):
        rows: list[Row] = []
        for line, values in chunk:
            rows_read += 1
            row = checked_row(
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
        check_batch(
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


class _Writer:
    """Writes checked chunks: new patients, new procedures, their visits."""

    def __init__(self, *, actor: User | None, today: dt.date, seen: Seen) -> None:
        self.actor = actor
        self.seen = seen
        self.result = ImportResult()
        self.rule_rows = {rule.code: rule for rule in FollowUpRule.objects.active()}
        self.specs = [rule.as_spec() for rule in self.rule_rows.values()]
        self.until = horizon(today)

    def write(
        self,
        rows: Sequence[Row],
        *,
        patients: dict[str, Patient],
        procedures: dict[ProcedureKey, set[int]],
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
        self, rows: Sequence[Row], patients: dict[str, Patient]
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
        rows: Sequence[Row],
        patients: dict[str, Patient],
        procedures: dict[ProcedureKey, set[int]],
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
