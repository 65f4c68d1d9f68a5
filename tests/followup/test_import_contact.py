"""The CSV import's optional columns: phone, email and reminders, checked
as the registration page and the API check them; a bad value is a row
error like the others, and the file is refused whole."""

from __future__ import annotations

import pytest

from clinic.models import Patient, Surgeon
from tests.followup.test_import import csv_bytes, errors_by_line, import_csv, rejection

pytestmark = pytest.mark.django_db

HEADER = (
    "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date,"
    "phone,email,reminders"
)
ROW = "{rn},José,García,1950-03-02,surgeon_a,endoscopic,2026-11-02,{contact}"


def row(rn: str, contact: str) -> str:
    return ROW.format(rn=rn, contact=contact)


def test_contact_columns_are_stored_and_found_by_the_search(
    surgeon_a: Surgeon,
) -> None:
    import_csv(
        csv_bytes(
            row("R-1", "612 34 56 78,,sms"),
            row("R-2", ",jose@example.es,email"),
            row("R-3", "'+34 912 34 56 78,,"),
            header=HEADER,
        )
    )

    stored = {
        p.record_number: (p.phone, p.email, p.reminders) for p in Patient.objects.all()
    }
    assert stored == {
        "R-1": ("+34612345678", "", "sms"),
        "R-2": ("", "jose@example.es", "email"),
        "R-3": ("+34912345678", "", "none"),
    }
    found = Patient.objects.search("jose garcia").values_list(
        "record_number", flat=True
    )
    assert sorted(found) == ["R-1", "R-2", "R-3"]
    assert list(Patient.objects.search("612345678").values_list("pk", flat=True)) == [
        Patient.objects.get(record_number="R-1").pk
    ]


def test_a_file_without_the_optional_columns_still_imports(surgeon_a: Surgeon) -> None:
    import_csv(csv_bytes("R-1,Ana,Abad,1970-05-17,surgeon_a,endoscopic,2026-11-02"))

    assert Patient.objects.get().reminders == "none"


def test_bad_contact_values_are_row_errors_and_nothing_is_imported(
    surgeon_a: Surgeon,
) -> None:
    exc = rejection(
        csv_bytes(
            row("R-1", "612 34 56 78,,sms"),
            row("R-2", "not a phone,,"),
            row("R-3", ",,sms"),
            row("R-4", "912 34 56 78,,sms"),
            row("R-5", ",,email"),
            row("R-6", ",jose@,"),
            row("R-7", ",,fax"),
            header=HEADER,
        )
    )

    errors = errors_by_line(exc)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "is not a phone number" in errors[3]
    assert "Reminders by SMS need a mobile number" in errors[4]
    assert "fixed line" in errors[5]
    assert "Reminders by email need an email address" in errors[6]
    assert "is not an email address" in errors[7]
    assert "'fax' is not a choice" in errors[8]
    assert not Patient.objects.exists()


def test_the_header_names_the_optional_columns_when_one_is_unknown(
    surgeon_a: Surgeon,
) -> None:
    exc = rejection(
        csv_bytes(row("R-1", "x"), header=HEADER.replace("phone", "mobile"))
    )

    assert "optionally phone, email, reminders" in exc.message
