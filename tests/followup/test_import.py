"""The CSV import of patients and procedures, on the real database."""

from __future__ import annotations

import datetime as dt
import threading
import tracemalloc
import unicodedata
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import Visit, VisitEvent
from followup.services import import_file, importing
from tests.factories import TODAY, PatientFactory, SurgeonFactory

pytestmark = pytest.mark.django_db

HEADER = "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date"


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode()


def import_csv(data: bytes) -> services.ImportResult:
    return services.import_procedures_csv(data=data, actor=None, today=TODAY)


def rejection(data: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        import_csv(data)
    return caught.value


def errors_by_line(exc: InvalidInput) -> dict[int, str]:
    found: dict[int, str] = {}
    for item in exc.errors:
        line = int(str(item["line"]))
        found[line] = " | ".join(filter(None, [found.get(line), str(item["error"])]))
    return found


def row_counts() -> tuple[int, int, int, int]:
    return (
        Patient.objects.count(),
        Procedure.objects.count(),
        Visit.objects.count(),
        VisitEvent.objects.count(),
    )


def registered_maria() -> Patient:
    """Patient R-001 as the rows of these tests name her."""
    return PatientFactory.create(
        record_number="R-001",
        given_name="Maria",
        family_name="Garcia",
        birth_date=dt.date(1970, 5, 17),
    )


def visit_plan(procedure: Procedure) -> list[tuple[object, ...]]:
    """A procedure's visits and first events, without ids or patient."""
    return sorted(
        (
            v.rule.code,
            v.occurrence,
            v.due_date,
            v.window_start,
            v.window_end,
            v.duration_minutes,
            v.requires_mri,
            v.status,
            v.surgeon_id,
            tuple(v.events.values_list("action", "to_status", "actor", "details")),
        )
        for v in procedure.visits.select_related("rule")
    )


def test_good_file_creates_the_visits_a_single_create_would(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        f"R-001,Maria,Garcia,1970-05-17,{surgeon_b.pk},endoscopic_stem_cell,2025-01-31",
        "R-002,Jose,Lopez,1961-02-28,surgeon_b,endoscopic_stem_cell,2026-12-10",
    )

    result = import_csv(data)

    imported = {
        (p.patient.record_number, p.kind): p
        for p in Procedure.objects.select_related("patient")
    }
    assert set(imported) == {
        ("R-001", ProcedureKind.ENDOSCOPIC),
        ("R-001", ProcedureKind.ENDOSCOPIC_STEM_CELL),
        ("R-002", ProcedureKind.ENDOSCOPIC_STEM_CELL),
    }
    maria = Patient.objects.get(record_number="R-001")
    assert (maria.given_name, maria.family_name, maria.birth_date) == (
        "Maria",
        "Garcia",
        dt.date(1970, 5, 17),
    )
    assert imported["R-001", ProcedureKind.ENDOSCOPIC].surgeon == surgeon_a
    assert imported["R-002", ProcedureKind.ENDOSCOPIC_STEM_CELL].surgeon == surgeon_b
    for procedure in imported.values():
        twin = services.create_procedure(
            patient=PatientFactory.create(birth_date=procedure.patient.birth_date),
            surgeon=procedure.surgeon,
            kind=ProcedureKind(procedure.kind),
            surgery_date=procedure.surgery_date,
            today=TODAY,
        ).procedure
        assert visit_plan(procedure) == visit_plan(twin)
        assert visit_plan(procedure)  # the comparison is about real visits
    assert result.as_dict() == {
        "rows": 3,
        "patients_created": 2,
        "procedures_created": 3,
        "visits_created": Visit.objects.filter(procedure__in=imported.values()).count(),
        "unchanged": 0,
        "read_as": {"separator": ",", "dates": "yyyy-mm-dd"},
    }
    # 2 + ( + 3 annual reviews up to 2028-11-25) + (2 + 1 annual review).
    assert result.visits_created == 10


def test_file_with_bad_rows_is_rejected_line_by_line_and_nothing_is_written(
    surgeon_a: Surgeon,
) -> None:
    SurgeonFactory.create(id=9001, given_name="Olga", family_name="Old", active=False)
    before = row_counts()
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-002,Jose,Lopez,1961-02-30,surgeon_a,endoscopic,2026-11-02",
        "R-003,Ana,Ruiz,1980-01-01,surgeon_a,microdiscectomy,2026-11-02",
        "R-004,Luis,Diaz,1980-01-01,dr_nobody,endoscopic,2026-11-02",
        "R-005,Eva,Gomez,1980-01-01,surgeon_a,endoscopic,2028-11-02",
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-006,Pau,Soler,1980-01-01,9001,endoscopic,2026-11-02",
        "R-007,Rosa,Vidal,1980-01-01,surgeon_a,endoscopic,2026-11-20",
    )

    exc = rejection(data)

    assert exc.code == "import_rejected"
    assert exc.message == "6 of 8 rows are invalid; nothing was imported."
    errors = errors_by_line(exc)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "birth_date '1961-02-30' is not a real date" in errors[3]
    assert "Unknown procedure kind 'microdiscectomy'" in errors[4]
    assert "Unknown surgeon 'dr_nobody'" in errors[5]
    assert "more than 365 days ahead" in errors[6]
    assert errors[7] == (
        "Duplicate of line 2: the same patient, kind and surgery date."
    )
    assert "Dr. Olga Old (9001) is no longer active" in errors[8]
    assert row_counts() == before


def test_every_problem_of_a_row_is_reported(surgeon_a: Surgeon) -> None:
    data = csv_bytes(",Maria,,2030-01-01,,endoscopic,1969-01-01")

    exc = rejection(data)

    assert exc.message == "1 of 1 rows are invalid; nothing was imported."
    assert [item["error"] for item in exc.errors] == [
        "record_number is required.",
        "family_name is required.",
        "Birth date 2030-01-01 is in the future.",
        "surgeon is required.",
    ]


def test_surgery_before_birth_is_refused_as_in_a_single_create(
    surgeon_a: Surgeon,
) -> None:
    exc = rejection(
        csv_bytes("R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,1969-01-01")
    )

    assert errors_by_line(exc) == {
        2: "Surgery date 1969-01-01 is before the patient's birth date 1970-05-17."
    }


def test_record_number_registered_to_someone_else_is_rejected(
    surgeon_a: Surgeon,
) -> None:
    registered_maria()
    before = row_counts()
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-18,surgeon_a,endoscopic,2026-11-02",
        "R-001,Mario,Garcia,1970-05-17,surgeon_a,endoscopic,2026-10-02",
    )

    exc = rejection(data)

    assert errors_by_line(exc) == {
        2: "Record number R-001 is already registered with birth_date 1970-05-17; "
        "correct the row, or the patient's record first.",
        3: "Record number R-001 is already registered with given_name 'Maria'; "
        "correct the row, or the patient's record first.",
    }
    assert row_counts() == before


def test_a_name_with_its_accents_written_apart_is_the_registered_name(
    surgeon_a: Surgeon,
) -> None:
    # "José" typed at the desk is one character é; a file from a Mac may
    # write it as e and a combining accent, which looks the same.
    patient = PatientFactory.create(
        record_number="R-001",
        given_name="José",
        family_name="Muñoz",
        birth_date=dt.date(1970, 5, 17),
    )
    apart = unicodedata.normalize("NFD", "R-001,José,Muñoz")
    data = csv_bytes(f"{apart},1970-05-17,surgeon_a,endoscopic,2026-11-02")

    result = import_csv(data)

    assert (result.patients_created, result.procedures_created) == (0, 1)
    assert patient.procedures.count() == 1


def test_record_number_with_two_names_in_one_file_is_rejected(
    surgeon_a: Surgeon,
) -> None:
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-001,Maria,Garcia Lopez,1970-05-17,surgeon_a,endoscopic,2026-10-02",
    )

    exc = rejection(data)

    assert errors_by_line(exc) == {
        3: "Record number R-001 has a different name or birth date on line 2."
    }
    assert row_counts() == (0, 0, 0, 0)


def test_patient_registered_while_importing_is_a_conflict_and_nothing_is_written(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up = importing._existing_patients

    def clerk_registers_r002_meanwhile(numbers: list[str]) -> dict[str, Patient]:
        found = looked_up(numbers)
        PatientFactory.create(record_number="R-002")
        return found

    monkeypatch.setattr(importing, "_existing_patients", clerk_registers_r002_meanwhile)
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-002,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,2026-11-02",
    )

    with pytest.raises(Conflict, match="registered by someone else") as caught:
        import_csv(data)

    assert caught.value.code == "import_conflict"
    assert not Patient.objects.filter(record_number="R-001").exists()
    assert Procedure.objects.count() == 0


def test_importing_the_same_file_again_creates_nothing_new(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-001,Maria,Garcia,1970-05-17,surgeon_b,endoscopic_stem_cell,2025-01-31",
        "R-002,Jose,Lopez,1961-02-28,surgeon_b,endoscopic,2026-12-10",
    )
    import_csv(data)
    after_first = row_counts()

    again = import_csv(data)

    assert again.as_dict() == {
        "rows": 3,
        "patients_created": 0,
        "procedures_created": 0,
        "visits_created": 0,
        "unchanged": 3,
        "read_as": {"separator": ",", "dates": "yyyy-mm-dd"},
    }
    assert row_counts() == after_first


def test_registered_patient_with_the_same_data_gets_the_new_procedure(
    surgeon_a: Surgeon,
) -> None:
    patient = registered_maria()
    services.create_procedure(
        patient=patient,
        surgeon=surgeon_a,
        kind=ProcedureKind.ENDOSCOPIC,
        surgery_date=dt.date(2026, 11, 2),
        today=TODAY,
    )
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-20",
    )

    result = import_csv(data)

    assert (result.patients_created, result.procedures_created) == (0, 1)
    assert result.unchanged == 1
    assert sorted(patient.procedures.values_list("surgery_date", flat=True)) == [
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 20),
    ]


def test_a_record_number_in_small_letters_is_the_registered_patient(
    surgeon_a: Surgeon,
) -> None:
    patient = registered_maria()
    data = csv_bytes(
        "r-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "new-7,Ana,Ruiz,1980-01-02,surgeon_a,endoscopic,2026-11-03",
    )

    result = import_csv(data)

    assert (result.patients_created, result.procedures_created) == (1, 2)
    assert patient.procedures.count() == 1
    assert sorted(Patient.objects.values_list("record_number", flat=True)) == [
        "NEW-7",
        "R-001",
    ]


def test_registered_procedure_with_another_surgeon_is_rejected(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    row = "R-001,Maria,Garcia,1970-05-17,{},endoscopic,2026-11-02"
    import_csv(csv_bytes(row.format("surgeon_a")))

    exc = rejection(csv_bytes(row.format("surgeon_b")))

    assert errors_by_line(exc) == {
        2: "This endoscopic procedure of 2026-11-02 is already registered for "
        "record number R-001 with Dr. Ana Alvarez; correct the surgeon in the "
        "row or in the clinic's records."
    }


def test_a_procedure_entered_in_error_does_not_block_its_corrected_row(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    # Imported with the wrong surgeon, marked entered in error, imported again
    # corrected: as a single create reads it, the voided one is not there.
    row = "R-001,Maria,Garcia,1970-05-17,{},endoscopic,2026-11-02"
    import_csv(csv_bytes(row.format("surgeon_a")))
    wrong = Procedure.objects.get()
    services.cancel_procedure(
        procedure_id=wrong.pk, reason="Wrong surgeon", entered_in_error=True
    )

    result = import_csv(csv_bytes(row.format("surgeon_b")))

    assert (result.procedures_created, result.unchanged) == (1, 0)
    corrected = Procedure.objects.exclude(pk=wrong.pk).get()
    assert corrected.surgeon == surgeon_b
    assert corrected.visits.exists()


def test_excel_style_file_with_bom_crlf_and_quotes_imports(surgeon_a: Surgeon) -> None:
    # Columns in any order, in any case, with stray spaces and a blank row.
    header = (
        " Surgery_Date,KIND,surgeon,birth_date,family_name,given_name,Record_Number"
    )
    row = '2026-11-02,endoscopic,surgeon_a,1970-05-17,"Garcia, de la Torre",Maria,"R-1"'
    data = b"\xef\xbb\xbf" + "\r\n".join([header, row, ",,,,,,", ""]).encode()

    result = import_csv(data)

    assert (result.rows, result.procedures_created) == (1, 1)
    patient = Patient.objects.get()
    assert (patient.record_number, patient.given_name, patient.family_name) == (
        "R-1",
        "Maria",
        "Garcia, de la Torre",
    )


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(
    surgeon_a: Surgeon,
) -> None:
    data = csv_bytes(
        'R-001,Maria,"Garcia',
        'Lopez",1970-05-17,surgeon_a,endoscopic,2026-11-02',
        "",
        "R-002,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,someday",
    )

    exc = rejection(data)

    assert exc.message == "1 of 2 rows are invalid; nothing was imported."
    assert list(errors_by_line(exc)) == [5]


def test_empty_cells_padding_a_spreadsheet_are_ignored(surgeon_a: Surgeon) -> None:
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02,,",
        "R-002,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,",
        "R-003,Ana,Ruiz,1961-02-28,surgeon_a,endoscopic,2026-11-02,,late",
        header=HEADER + ",,",
    )

    exc = rejection(data)

    assert errors_by_line(exc) == {
        3: "surgery_date is required (YYYY-MM-DD).",
        4: "This row has 9 values; the header has 7 columns "
        "(a comma inside a name needs quotes).",
    }


def test_row_with_a_missing_value_names_the_count(surgeon_a: Surgeon) -> None:
    exc = rejection(csv_bytes("R-001,Maria,1970-05-17,surgeon_a,endoscopic,2026-11-02"))

    assert errors_by_line(exc) == {
        2: "This row has 6 values; the header has 7 columns "
        "(a comma inside a name needs quotes)."
    }


@pytest.mark.parametrize(
    ("data", "message", "line"),
    [
        (
            b"",
            "The file is empty; it needs a header row with the columns "
            "record_number, given_name, family_name, birth_date, surgeon, kind, "
            "surgery_date; nothing was imported.",
            1,
        ),
        (
            b"\xef\xbb\xbf\r\n  \r\n",
            "The file is empty; it needs a header row with the columns "
            "record_number, given_name, family_name, birth_date, surgeon, kind, "
            "surgery_date; nothing was imported.",
            1,
        ),
        (
            (HEADER + "\r\n").encode(),
            "The file has a header but no rows; nothing was imported.",
            1,
        ),
        (
            b"record_number,given_name,family_name,birth_date,kind,surgery_date\n"
            b"R-1,A,B,1970-01-01,endoscopic,2026-11-02\n",
            "The header row has missing column(s) surgeon. The columns are "
            "record_number, given_name, family_name, birth_date, surgeon, kind, "
            "surgery_date, and optionally phone, email, reminders; nothing was "
            "imported.",
            1,
        ),
        (
            (HEADER + ",notes,surgeon\n").encode(),
            "The header row has unknown column(s) 'notes'; repeated column(s) "
            "surgeon. The columns are record_number, given_name, family_name, "
            "birth_date, surgeon, kind, surgery_date, and optionally phone, "
            "email, reminders; nothing was imported.",
            1,
        ),
        (
            (
                b"record_number,,given_name,family_name,birth_date,surgeon,kind,"
                b"surgery_date\n"
            ),
            "The header row has unknown column(s) with no name (column 2). The "
            "columns are record_number, given_name, family_name, birth_date, "
            "surgeon, kind, surgery_date, and optionally phone, email, "
            "reminders; nothing was imported.",
            1,
        ),
        (
            (HEADER + "\nR-1,Mar\xeda,B,1970-01-01,1,endoscopic,2026-11-02\n").encode(
                "latin-1"
            ),
            "The file is not UTF-8 text (first bad byte on line 2); save it as "
            "'CSV UTF-8' and import it again; nothing was imported.",
            2,
        ),
        (
            (HEADER + "\nR-1,Maria,B,1970-01-01,1,endoscopic,2026-11-02\n").encode(
                "utf-16-le"
            ),
            "The file holds a NUL character (first on line 1), so it is not CSV "
            "text; save it as 'CSV UTF-8' and import it again; nothing was "
            "imported.",
            1,
        ),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "missing",
        "unknown",
        "unnamed",
        "latin-1",
        "utf-16",
    ],
)
def test_unusable_file_is_rejected_with_a_clear_message(
    data: bytes, message: str, line: int
) -> None:
    exc = rejection(data)

    assert exc.code == "import_rejected"
    assert exc.message == message
    assert [item["line"] for item in exc.errors] == [line]
    assert row_counts() == (0, 0, 0, 0)


# SQLite caps a statement's parameters, so there bulk inserts split by size.
@pytest.mark.postgres
def test_queries_do_not_grow_with_the_number_of_rows(surgeon_a: Surgeon) -> None:
    def queries_for(count: int, prefix: str) -> int:
        data = csv_bytes(
            *(
                f"{prefix}{n},Maria,Garcia,1970-05-17,surgeon_a,"
                f"endoscopic_stem_cell,2025-0{1 + n % 9}-1{n % 10}"
                for n in range(count)
            )
        )
        with CaptureQueriesContext(connection) as queries:
            result = import_csv(data)
        assert result.procedures_created == count
        return len(queries)

    assert queries_for(5, "S") == queries_for(500, "L")


def test_command_prints_the_counts(surgeon_a: Surgeon, tmp_path: Path) -> None:
    path = tmp_path / "procedures.csv"
    path.write_bytes(
        csv_bytes("R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02")
    )
    out: list[str] = []

    class Capture:
        def write(self, text: str) -> None:
            out.append(text)

    call_command("import_procedures", str(path), stdout=Capture())

    assert "".join(out).strip() == (
        "Imported 1 rows: 1 patients, 1 procedures and 2 visits created; "
        "0 procedures were already registered. Read as a comma-separated file "
        "with dates as yyyy-mm-dd."
    )


def test_command_fails_on_a_rejected_file_and_lists_the_lines(
    surgeon_a: Surgeon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "procedures.csv"
    path.write_bytes(
        csv_bytes(
            "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
            "R-002,Jose,Lopez,1961-02-28,surgeon_a,endoscopy,2026-11-02",
        )
    )

    with pytest.raises(CommandError, match=r"^1 of 2 rows are invalid; nothing"):
        call_command("import_procedures", str(path))

    assert capsys.readouterr().err == (
        "line 3: Unknown procedure kind 'endoscopy'; use one of: endoscopic, "
        "endoscopic_stem_cell.\n"
    )
    assert row_counts() == (0, 0, 0, 0)


def test_command_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv"):
        call_command("import_procedures", str(tmp_path / "missing.csv"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_one_file_at_once_create_one_set(surgeon_a: Surgeon) -> None:
    data = csv_bytes(
        *(
            f"R-{n},Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02"
            for n in range(200)
        )
    )
    start = threading.Barrier(2)
    results: list[services.ImportResult] = []

    def upload() -> None:
        try:
            start.wait()
            results.append(import_csv(data))
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.procedures_created for r in results) == [0, 200]
    assert sorted(r.unchanged for r in results) == [0, 200]
    assert Procedure.objects.count() == 200
    assert Visit.objects.count() == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_procedure_registered_by_hand_during_an_import_is_not_doubled(
    surgeon_a: Surgeon,
) -> None:
    patient = registered_maria()
    data = csv_bytes("R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02")
    written = threading.Event()
    clerk_done = threading.Event()
    imported: list[services.ImportResult] = []
    failed: list[BaseException] = []

    def still_importing(rows: int) -> None:
        # The row is written, not committed: a big file's next chunks.
        written.set()
        clerk_done.wait(timeout=3)

    def upload() -> None:
        try:
            imported.append(
                services.import_procedures_csv(
                    data=data, actor=None, today=TODAY, progress=still_importing
                )
            )
        except BaseException as exc:  # counted below, never swallowed
            failed.append(exc)
        finally:
            connection.close()

    def clerk_registers_it() -> None:
        try:
            written.wait(timeout=10)
            services.create_procedure(
                patient=Patient.objects.get(pk=patient.pk),
                surgeon=surgeon_a,
                kind=ProcedureKind.ENDOSCOPIC,
                surgery_date=dt.date(2026, 11, 2),
                today=TODAY,
            )
        except BaseException as exc:  # counted below, never swallowed
            failed.append(exc)
        finally:
            clerk_done.set()
            connection.close()

    threads = [
        threading.Thread(target=upload),
        threading.Thread(target=clerk_registers_it),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [r.procedures_created for r in imported] == [1]
    assert [getattr(exc, "code", repr(exc)) for exc in failed] == [
        "duplicate_procedure"
    ]
    assert patient.procedures.count() == 1


# --- wide headers, many bad rows, chunks -------


def test_a_header_wider_than_a_few_dozen_columns_is_refused_at_once(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100,000 columns once took 104 s: the header checks grew quadratically.
    The width alone refuses it now, before any column's name is checked."""
    checked: list[int] = []
    real_check = import_file._check_header

    def counting_check(header: list[str], *, line: int) -> None:
        checked.append(len(header))
        real_check(header, line=line)

    monkeypatch.setattr(import_file, "_check_header", counting_check)
    wide = HEADER + "," + ",".join(f"extra{n}" for n in range(100_000))
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02", header=wide
    )

    exc = rejection(data)

    assert checked == []
    assert exc.code == "too_many_columns"
    assert exc.message.startswith(
        "The header row has 100007 columns; an import takes at most 32"
    )
    assert row_counts() == (0, 0, 0, 0)


def test_empty_columns_a_spreadsheet_pads_do_not_count_as_too_many(
    surgeon_a: Surgeon,
) -> None:
    padding = "," * 60
    data = csv_bytes(
        "R-001,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02" + padding,
        header=HEADER + padding,
    )

    assert import_csv(data).procedures_created == 1


def test_a_rejection_lists_the_first_100_problems_and_counts_them_all(
    surgeon_a: Surgeon,
) -> None:
    rows = [
        f"B-{n:05},Maria,Garcia,1970-05-17,dr_nobody,laser,2026-11-02"
        for n in range(5000)
    ]

    exc = rejection(csv_bytes(*rows))

    assert exc.message == (
        "5000 of 5000 rows are invalid; nothing was imported. "
        "The first 100 of 10000 problems are listed."
    )
    assert exc.error_count == 10_000
    assert len(exc.errors) == 100
    assert [item["line"] for item in exc.errors] == [
        line for line in range(2, 52) for _ in range(2)
    ]


def test_the_api_answers_at_most_100_errors_and_their_total(
    surgeon_a: Surgeon, front_desk: User
) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(front_desk)
    rows = [
        f"B-{n:05},Maria,Garcia,1970-05-17,dr_nobody,endoscopic,2026-11-02"
        for n in range(300)
    ]

    response = client.post(
        "/api/procedures/import/", data=csv_bytes(*rows), content_type="text/csv"
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["error_count"], len(body["errors"])) == (
        "import_rejected",
        300,
        100,
    )


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (
            csv_bytes(
                *(
                    f"B-{n},Maria,Garcia,1970-05-17,surgeon_a,{'Z' * 100_000},"
                    "2026-11-02"
                    for n in range(100)
                )
            ),
            2,
            f"Unknown procedure kind '{'Z' * 60}…' (100,000 characters); use one "
            "of: endoscopic, endoscopic_stem_cell.",
        ),
        (
            csv_bytes(header=HEADER + "," + "Z" * 100_000),
            1,
            f"The header row has unknown column(s) '{'z' * 60}…' (100,000 "
            "characters). The columns are record_number, given_name, family_name, "
            "birth_date, surgeon, kind, surgery_date, and optionally phone, email, "
            "reminders.",
        ),
    ],
    ids=["cells", "header"],
)
def test_the_api_quotes_a_huge_bad_value_by_its_start_and_length(
    surgeon_a: Surgeon, front_desk: User, data: bytes, line: int, message: str
) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(front_desk)

    response = client.post(
        "/api/procedures/import/", data=data, content_type="text/csv"
    )

    assert response.status_code == 400
    assert len(response.content) < 50 * 1024, f"{len(response.content):,} bytes"
    first = response.json()["errors"][0]
    assert (first["line"], first["error"]) == (line, message)
    assert row_counts() == (0, 0, 0, 0)


def test_a_bad_row_after_written_chunks_rolls_everything_back(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    data = csv_bytes(
        "C-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "C-2,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,2026-11-02",
        "C-3,Ana,Ruiz,1980-01-01,surgeon_a,endoscopic,2026-11-02",
        "C-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic_stem_cell,2026-11-02",
        "C-4,Eva,Sanz,1980-01-01,dr_nobody,endoscopic,2026-11-02",
    )

    exc = rejection(data)

    assert errors_by_line(exc) == {6: errors_by_line(exc)[6]}
    assert "Unknown surgeon 'dr_nobody'" in errors_by_line(exc)[6]
    assert row_counts() == (0, 0, 0, 0)


def test_rows_are_checked_against_earlier_chunks(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    data = csv_bytes(
        "D-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "D-2,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,2026-11-02",
        "D-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "D-2,Josep,Lopez,1961-02-28,surgeon_a,endoscopic_stem_cell,2026-11-02",
    )

    assert errors_by_line(rejection(data)) == {
        4: "Duplicate of line 2: the same patient, kind and surgery date.",
        5: "Record number D-2 has a different name or birth date on line 3.",
    }
    assert row_counts() == (0, 0, 0, 0)


def test_a_good_file_in_many_chunks_imports_like_one(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    data = csv_bytes(
        "E-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02",
        "E-2,Jose,Lopez,1961-02-28,surgeon_a,endoscopic,2026-11-02",
        "E-1,Maria,Garcia,1970-05-17,surgeon_a,endoscopic_stem_cell,2025-03-14",
        "E-3,Ana,Ruiz,1980-01-01,surgeon_a,endoscopic,2026-11-02",
        "E-2,Jose,Lopez,1961-02-28,surgeon_a,endoscopic_stem_cell,2025-01-10",
    )

    result = import_csv(data)

    assert (result.rows, result.patients_created, result.procedures_created) == (
        5,
        3,
        5,
    )
    assert Patient.objects.count() == 3
    assert import_csv(data).unchanged == 5


def test_a_large_bad_file_is_checked_in_bounded_memory(surgeon_a: Surgeon) -> None:
    """A 20 MB bad file once answered 297 MB of JSON from a 2.3 GB server."""
    rows = [
        f"M-{n:07},Maria,Garcia,1970-05-17,dr_nobody,laser,2026-11-02"
        for n in range(40_000)
    ]
    data = csv_bytes(*rows)  # 2.5 MB, 80,000 problems

    tracemalloc.start()
    try:
        exc = rejection(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert exc.error_count == 80_000
    # The file twice (bytes and text), one chunk, 100 errors; before
    # streaming every row and every error was held as well.
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
