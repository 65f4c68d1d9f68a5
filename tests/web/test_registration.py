"""Registering by hand (preview, then save) and the CSV import page.

No input gives a 500: every refusal is a message a person can act on, the
form keeps what was typed, and nothing is written. "Today" is Wednesday 25
November 2026 (`clinic.clock.now` pinned).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from clinic.models import Patient, Procedure, Surgeon
from followup.exceptions import InvalidInput
from followup.models import Visit, VisitEvent
from tests.factories import TODAY, PatientFactory, make_procedure
from tests.followup.world import NOW

pytestmark = pytest.mark.django_db

URL = "/desk/patients/new/"
GOOD = {
    "record_number": "H-200001",
    "given_name": "Elena",
    "family_name": "Navarro Gil",
    "birth_date": "1971-04-09",
    "kind": "endoscopic_stem_cell",
    "surgery_date": "2026-11-02",
}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


def typed(who: Surgeon, **changes: str) -> dict[str, str]:
    return {**GOOD, "surgeon": str(who.pk), **changes}


def nothing_written() -> bool:
    return not (
        Patient.objects.exists()
        or Procedure.objects.exists()
        or Visit.objects.exists()
        or VisitEvent.objects.exists()
    )


def fingerprint(response: Any) -> str:
    found = re.search(
        r'name="previewed" value="([0-9a-f]+)"', response.content.decode()
    )
    assert found is not None, "no preview shown"
    return found.group(1)


def test_the_preview_shows_the_plan_and_writes_nothing(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = desk.post(URL, {**typed(surgeon_a), "action": "preview"})

    assert response.status_code == 200
    text = response.content.decode()
    assert "The plan it will generate" in text
    assert "Nothing is saved yet" in text
    visits = [
        (v.title, str(v.planned.due_date)) for v in response.context["preview"].visits
    ]
    assert visits == [
        ("Post-operative control", "2026-11-12"),
        ("One-month control", "2026-12-02"),
        ("Annual MRI review, year 1", "2027-11-02"),
        ("Annual MRI review, year 2", "2028-11-02"),
    ]
    assert "Thu 12 Nov 2026" in text  # the clinic's date format
    assert "Daily activity recovered" in text
    assert "Save patient and procedure" in text
    assert 'value="Navarro Gil"' in text
    assert nothing_written()


def test_save_registers_the_patient_and_procedure_and_opens_their_page(
    desk: Client, front_desk: User, surgeon_a: Surgeon
) -> None:
    preview = desk.post(URL, {**typed(surgeon_a), "action": "preview"})

    response = desk.post(
        URL, {**typed(surgeon_a), "action": "save", "previewed": fingerprint(preview)}
    )

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/desk/patients/{patient.pk}/"
    assert (patient.record_number, patient.family_name) == ("H-200001", "Navarro Gil")
    procedure = Procedure.objects.get()
    assert (procedure.surgeon, procedure.kind) == (surgeon_a, "endoscopic_stem_cell")
    assert procedure.visits.count() == 4
    assert VisitEvent.objects.filter(actor=front_desk).count() == 4
    landing = desk.get(response["Location"]).content.decode()
    assert "Saved. 4 visits planned for Elena Navarro Gil." in landing
    assert "Annual MRI review, year 2" in landing


def test_details_changed_after_the_preview_are_previewed_again_not_saved(
    desk: Client, surgeon_a: Surgeon
) -> None:
    preview = desk.post(URL, {**typed(surgeon_a), "action": "preview"})

    response = desk.post(
        URL,
        {
            **typed(surgeon_a, kind="endoscopic"),
            "action": "save",
            "previewed": fingerprint(preview),
        },
    )

    assert response.status_code == 200
    assert "The details changed since the plan was shown" in response.content.decode()
    assert [v.title for v in response.context["preview"].visits] == [
        "Post-operative control",
        "One-month control",
    ]
    assert nothing_written()


REFUSALS = {
    "impossible birth date": (
        {"birth_date": "1970-02-30"},
        "birth_date",
        "Birth date is not a real date.",
    ),
    "birth date in the future": (
        {"birth_date": "2030-01-01"},
        "birth_date",
        "The birth date, Tue 1 Jan 2030, is in the future.",
    ),
    "huge year": (
        {"birth_date": "99999-01-01"},
        "birth_date",
        "Birth date is not a real date.",
    ),
    "surgery before birth": (
        {"surgery_date": "1960-01-01"},
        "surgery_date",
        "The surgery date, Fri 1 Jan 1960, is before the patient's birth date, "
        "Fri 9 Apr 1971.",
    ),
    "surgery years ahead": (
        {"surgery_date": "2036-11-02"},
        "surgery_date",
        "The surgery date, Sun 2 Nov 2036, is more than 365 days ahead; "
        "check the year.",
    ),
    "no surgery date": (
        {"surgery_date": " "},
        "surgery_date",
        "Surgery date is required.",
    ),
    "unknown surgeon": (
        {"surgeon": "999999"},
        "surgeon",
        "Choose one of the clinic's active surgeons from the list.",
    ),
    "huge surgeon number": (
        {"surgeon": "9" * 40},
        "surgeon",
        "Choose one of the clinic's active surgeons from the list.",
    ),
    "surgeon by name": (
        {"surgeon": "surgeon_a"},
        "surgeon",
        "Choose one of the clinic's active surgeons from the list.",
    ),
    "unknown kind": (
        {"kind": "laser"},
        "kind",
        "Choose one of the procedure kinds listed.",
    ),
    "record number too long": (
        {"record_number": "R" * 33},
        "record_number",
        "Record number is longer than 32 characters.",
    ),
    "blank name": (
        {"family_name": "   "},
        "family_name",
        "Family name is required.",
    ),
}


@pytest.mark.parametrize("action", ["preview", "save"])
@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_field_is_refused_in_words_keeping_what_was_typed(
    desk: Client, surgeon_a: Surgeon, case: str, action: str
) -> None:
    changes, field, message = REFUSALS[case]
    data = {**typed(surgeon_a, **changes), "action": action}

    response = desk.post(URL, data)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    text = response.content.decode()
    assert "Nothing was saved" in text
    assert 'value="Elena"' in text
    assert nothing_written()


@pytest.mark.parametrize("number", ["H-200001", "h-200001"])
def test_a_duplicate_record_number_points_to_the_patient_already_registered(
    desk: Client, surgeon_a: Surgeon, number: str
) -> None:
    existing = PatientFactory.create(record_number="H-200001")

    response = desk.post(
        URL, {**typed(surgeon_a, record_number=number), "action": "preview"}
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "A patient with record number H-200001 already exists." in text
    assert f'href="/desk/patients/{existing.pk}/"' in text
    assert Patient.objects.count() == 1
    assert not Procedure.objects.exists()


def test_an_inactive_surgeon_is_not_offered(desk: Client, surgeon_a: Surgeon) -> None:
    surgeon_a.active = False
    surgeon_a.save(update_fields=["active"])

    response = desk.post(URL, {**typed(surgeon_a), "action": "preview"})

    assert response.status_code == 400
    assert "surgeon" in response.context["form"].errors
    assert nothing_written()


def test_a_refused_save_writes_nothing_and_keeps_the_form(
    desk: Client, surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = desk.post(URL, {**typed(surgeon_a), "action": "preview"})

    def refuse(**kwargs: object) -> None:
        raise InvalidInput(
            "Dr. Ana Alvarez is no longer active.", code="surgeon_inactive"
        )

    # register_patient_with_procedure writes the patient first; the
    # procedure's refusal must undo it.
    monkeypatch.setattr("followup.services.procedures.create_procedure", refuse)
    response = desk.post(
        URL, {**typed(surgeon_a), "action": "save", "previewed": fingerprint(preview)}
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Not saved: Dr. Ana Alvarez is no longer active." in text
    assert 'value="H-200001"' in text
    assert "The plan it will generate" in text
    assert nothing_written()


def test_a_field_is_checked_as_it_is_typed(desk: Client, surgeon_a: Surgeon) -> None:
    response = desk.post(
        URL,
        {**typed(surgeon_a, birth_date="2030-01-01"), "check": "birth_date"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert (
        response.content.decode().strip()
        == "The birth date, Tue 1 Jan 2030, is in the future."
    )
    fine = desk.post(
        URL, {**typed(surgeon_a), "check": "birth_date"}, headers={"HX-Request": "true"}
    )
    assert fine.content.decode().strip() == ""
    assert nothing_written()


def test_a_change_after_the_preview_marks_it_out_of_date(
    desk: Client, surgeon_a: Surgeon
) -> None:
    preview = desk.post(URL, {**typed(surgeon_a), "action": "preview"})
    shown = fingerprint(preview)
    htmx = {"HX-Request": "true"}

    same = desk.post(
        URL, {**typed(surgeon_a), "check": "kind", "previewed": shown}, headers=htmx
    )
    changed = desk.post(
        URL,
        {**typed(surgeon_a, kind="endoscopic"), "check": "kind", "previewed": shown},
        headers=htmx,
    )

    assert "hx-swap-oob" not in same.content.decode()
    assert 'id="plan-preview"' in changed.content.decode()
    assert "hx-swap-oob" in changed.content.decode()
    assert "The details changed" in changed.content.decode()


# --- a procedure for a patient already registered ----------------------------------


def test_a_new_procedure_for_an_existing_patient_is_previewed_then_saved(
    desk: Client, surgeon_a: Surgeon
) -> None:
    patient = make_procedure(today=TODAY, surgeon=surgeon_a).patient
    url = f"/desk/patients/{patient.pk}/procedures/new/"
    data = {
        "surgeon": str(surgeon_a.pk),
        "kind": "endoscopic",
        "surgery_date": "2026-11-20",
    }

    preview = desk.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200
    assert Procedure.objects.count() == 1
    response = desk.post(
        url, {**data, "action": "save", "previewed": fingerprint(preview)}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/desk/patients/{patient.pk}/"
    assert patient.procedures.count() == 2
    # A double click on Save: the second is refused in words, nothing twice.
    again = desk.post(
        url, {**data, "action": "save", "previewed": fingerprint(preview)}
    )
    assert again.status_code == 409
    assert (
        "Not saved: The patient already has this procedure: endoscopic spine "
        "surgery on Fri 20 Nov 2026. It is on their page."
    ) in again.content.decode()
    assert again.context["form"]["surgery_date"].value() == "2026-11-20"
    assert patient.procedures.count() == 2


def test_a_procedure_before_the_patients_birth_is_refused(
    desk: Client, surgeon_a: Surgeon
) -> None:
    patient = PatientFactory.create(birth_date="1990-06-01")
    url = f"/desk/patients/{patient.pk}/procedures/new/"

    response = desk.post(
        url,
        {
            "surgeon": str(surgeon_a.pk),
            "kind": "endoscopic",
            "surgery_date": "1980-01-01",
            "action": "preview",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["surgery_date"] == [
        "The surgery date, Tue 1 Jan 1980, is before the patient's birth date, "
        "Fri 1 Jun 1990."
    ]
    assert not Procedure.objects.exists()


def test_surgeons_register_nothing(
    client: Client, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    patient = make_procedure(today=TODAY, surgeon=surgeon_a).patient
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    assert client.get(URL).status_code == 403
    assert client.get(f"/desk/patients/{patient.pk}/procedures/new/").status_code == 403
    assert client.get("/desk/import/").status_code == 403


# --- the CSV import -----------------------------------------------------------------

HEADER = "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"


def upload(client: Client, content: bytes, name: str = "list.csv") -> Any:
    return client.post(
        "/desk/import/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_an_import_with_one_bad_line_lists_it_and_imports_nothing(
    desk: Client, surgeon_a: Surgeon
) -> None:
    csv = (
        HEADER
        + "H-1,Ana,Ruiz,1970-05-17,surgeon_a,endoscopic,2026-11-02\n"
        + "H-2,Luis,Sanz,1970-02-30,surgeon_a,endoscopic,2026-11-02\n"
    )

    response = upload(desk, csv.encode())

    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported from list.csv" in text
    assert '<td class="line">3</td>' in text
    assert "birth_date &#x27;1970-02-30&#x27; is not a real date" in text
    assert nothing_written()


@pytest.mark.parametrize(
    ("column", "row", "message"),
    [
        (
            "birth_date",
            "H-{n},Ana,Ruiz,{cell},surgeon_a,endoscopic,2026-11-02",
            "birth_date {quoted} is not a date",
        ),
        (
            "surgeon",
            "H-{n},Ana,Ruiz,1970-05-17,{cell},endoscopic,2026-11-02",
            "Unknown surgeon {quoted}",
        ),
        (
            "kind",
            "H-{n},Ana,Ruiz,1970-05-17,surgeon_a,{cell},2026-11-02",
            "Unknown procedure kind {quoted}",
        ),
    ],
)
def test_an_import_of_huge_bad_cells_quotes_each_briefly(
    desk: Client, surgeon_a: Surgeon, settings: Any, column: str, row: str, message: str
) -> None:
    """100 rows with a 100,000-character bad cell each once made a 13 MB page."""
    settings.IMPORT_SYNC_MAX_ROWS = 1000
    cell = "x" * 100_000
    rows = [row.format(n=n, cell=cell) for n in range(100)]

    response = upload(desk, (HEADER + "\n".join(rows) + "\n").encode())

    assert response.status_code == 400
    assert len(response.content) < 50 * 1024, f"{len(response.content):,} bytes"
    text = response.content.decode()
    assert "100 of 100 rows are invalid; nothing was imported." in text
    # The first row and the last, each with its column and the cell's start.
    assert '<td class="line">2</td>' in text
    assert '<td class="line">101</td>' in text
    shown = message.format(quoted=f"&#x27;{'x' * 60}…&#x27; (100,000 characters)")
    assert text.count(shown) == 100, column
    assert nothing_written()


def test_a_good_import_shows_the_counts(desk: Client, surgeon_a: Surgeon) -> None:
    csv = (
        HEADER
        + "H-1,Ana,Ruiz,1970-05-17,surgeon_a,endoscopic,2026-11-02\n"
        + "H-1,Ana,Ruiz,1970-05-17,surgeon_a,endoscopic_stem_cell,2025-03-14\n"
        + "H-2,Luis,Sanz,1961-02-28,surgeon_a,endoscopic,2026-10-20\n"
    )

    response = upload(desk, csv.encode())

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.rows, result.patients_created, result.procedures_created) == (
        3,
        2,
        3,
    )
    assert result.visits_created == Visit.objects.count() > 0
    assert "Imported list.csv" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not UTF-8 text"),
        (b"\xff\xfer\x00e\x00c\x00", "is not UTF-8 text"),
        (b"name,age\nAna,4\n", "The header row has unknown column(s)"),
        (HEADER.encode(), "The file has a header but no rows"),
    ],
)
def test_a_file_that_is_not_the_csv_is_refused_in_words(
    desk: Client, content: bytes, message: str
) -> None:
    response = upload(desk, content, name="scan.png")

    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_written()


def test_an_import_without_a_file_asks_for_one(desk: Client) -> None:
    response = desk.post("/desk/import/", {})

    assert response.status_code == 400
    assert "Choose a CSV file to import." in response.content.decode()


def test_an_empty_or_oversized_file_is_refused(
    desk: Client, settings: Any, surgeon_a: Surgeon
) -> None:
    settings.IMPORT_MAX_BYTES = 1024

    empty = upload(desk, b"")
    big = upload(
        desk,
        (
            HEADER + "H-1,Ana,Ruiz,1970-05-17,surgeon_a,endoscopic,2026-11-02\n" * 40
        ).encode(),
    )

    assert empty.status_code == 400
    assert "The file is empty" in empty.content.decode()
    assert big.status_code == 400
    assert "The file is larger than" in big.content.decode()
    assert nothing_written()


def test_a_record_number_with_a_formula_is_refused_beside_the_field(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = desk.post(URL, typed(surgeon_a, record_number="Z;=1+1;"))

    assert response.status_code == 400
    assert response.context["form"].errors["record_number"]
    assert "Z;=1+1;" in response.content.decode()  # what was typed is kept
    assert nothing_written()


def test_a_name_without_letters_is_refused_as_it_is_typed(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = desk.post(
        URL,
        {**typed(surgeon_a, given_name="123"), "check": "given_name"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.content.decode().strip() == "Given name needs letters."
    preview = desk.post(
        URL, {**typed(surgeon_a, family_name="--"), "action": "preview"}
    )
    assert preview.status_code == 400
    assert "Family name needs letters." in preview.content.decode()
    assert nothing_written()


def test_a_birth_date_over_110_years_ago_is_saved_only_once_confirmed(
    desk: Client, surgeon_a: Surgeon
) -> None:
    old = typed(surgeon_a, birth_date="1912-03-04")

    first = desk.post(URL, {**old, "action": "preview"})

    assert first.status_code == 400
    page = first.content.decode()
    assert "Mon 4 Mar 1912 is more than 110 years ago" in page
    assert (
        '<input type="checkbox" name="confirm_birth_date" value="1912-03-04"> '
        "Yes, born on Mon 4 Mar 1912"
    ) in page
    assert 'value="1912-03-04"' in page and 'value="Elena"' in page
    confirmed = {**old, "confirm_birth_date": "1912-03-04"}
    preview = desk.post(URL, {**confirmed, "action": "preview"})
    assert preview.status_code == 200
    assert 'value="1912-03-04" checked> Yes, born on' in preview.content.decode()
    unticked = desk.post(
        URL, {**old, "action": "save", "previewed": fingerprint(preview)}
    )
    assert unticked.status_code == 400
    assert nothing_written()
    # A box ticked for another date confirms nothing.
    other = desk.post(
        URL,
        {
            **typed(surgeon_a, birth_date="1912-03-05"),
            "confirm_birth_date": "1912-03-04",
        },
    )
    assert other.status_code == 400

    saved = desk.post(
        URL, {**confirmed, "action": "save", "previewed": fingerprint(preview)}
    )

    assert saved.status_code == 302
    assert Patient.objects.get().birth_date == dt.date(1912, 3, 4)


def test_a_birth_date_110_years_ago_or_less_asks_nothing(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = desk.post(
        URL, {**typed(surgeon_a, birth_date="1916-11-25"), "action": "preview"}
    )

    assert response.status_code == 200
    assert "confirm_birth_date" not in response.content.decode()
