"""The CSV import reads what a Spanish Excel writes: `;`-separated files,
dates as dd/mm/yyyy (or d/m/yyyy), and surgeons by their full name; the
answer says how the file was read."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import Patient, Procedure, Surgeon
from tests.factories import SurgeonFactory, UserFactory
from tests.followup.test_import import (
    HEADER,
    csv_bytes,
    errors_by_line,
    import_csv,
    rejection,
    row_counts,
)

pytestmark = pytest.mark.django_db

SEMICOLON_HEADER = HEADER.replace(",", ";")


def test_a_semicolon_file_with_day_first_dates_imports(surgeon_a: Surgeon) -> None:
    data = csv_bytes(
        "R-1;José;García;02/03/1950;surgeon_a;endoscopic;2/11/2026",
        'R-2;"Ana; María";Núñez;17/5/1970;surgeon_a;endoscopic;02/11/2026',
        header=SEMICOLON_HEADER,
        newline="\r\n",
    )

    result = import_csv(b"\xef\xbb\xbf" + data)

    assert result.read_as == {"separator": ";", "dates": "dd/mm/yyyy"}
    assert result.procedures_created == 2
    stored = {
        p.record_number: (p.given_name, p.birth_date) for p in Patient.objects.all()
    }
    assert stored == {
        "R-1": ("José", dt.date(1950, 3, 2)),
        "R-2": ("Ana; María", dt.date(1970, 5, 17)),
    }
    assert set(Procedure.objects.values_list("surgery_date", flat=True)) == {
        dt.date(2026, 11, 2)
    }


def test_an_iso_comma_file_says_so(surgeon_a: Surgeon) -> None:
    result = import_csv(
        csv_bytes("R-1,Ana,Abad,1970-05-17,surgeon_a,endoscopic,2026-11-02")
    )

    assert result.read_as == {"separator": ",", "dates": "yyyy-mm-dd"}


def test_a_comma_file_with_day_first_dates_imports(surgeon_a: Surgeon) -> None:
    result = import_csv(
        csv_bytes("R-1,Ana,Abad,17/05/1970,surgeon_a,endoscopic,02/11/2026")
    )

    assert result.read_as == {"separator": ",", "dates": "dd/mm/yyyy"}
    assert Patient.objects.get().birth_date == dt.date(1970, 5, 17)


def test_a_file_mixing_date_forms_gets_row_errors_naming_the_expected_form(
    surgeon_a: Surgeon,
) -> None:
    before = row_counts()

    exc = rejection(
        csv_bytes(
            "R-1;Ana;Abad;17/05/1970;surgeon_a;endoscopic;02/11/2026",
            "R-2;Eva;Sanz;1971-06-18;surgeon_a;endoscopic;2026-11-02",
            "R-3;Luis;Gil;31/02/1960;surgeon_a;endoscopic;03/11/2026",
            "R-4;Pia;Ros;1960.01.01;surgeon_a;endoscopic;03/11/2026",
            header=SEMICOLON_HEADER,
        )
    )

    errors = errors_by_line(exc)
    assert sorted(errors) == [3, 4, 5]
    assert (
        "birth_date '1971-06-18' is written as YYYY-MM-DD, but this file's dates "
        "are DD/MM/YYYY (as from line 2); write it as DD/MM/YYYY."
    ) in errors[3]
    assert "surgery_date '2026-11-02'" in errors[3]
    assert "birth_date '31/02/1960' is not a real date (DD/MM/YYYY)." in errors[4]
    assert (
        "birth_date '1960.01.01' is not a date; write it as DD/MM/YYYY." in (errors[5])
    )
    assert row_counts() == before


def test_a_semicolon_row_with_too_many_values_names_the_semicolon(
    surgeon_a: Surgeon,
) -> None:
    exc = rejection(
        csv_bytes(
            "R-1;Ana;María;Abad;17/05/1970;surgeon_a;endoscopic;02/11/2026",
            header=SEMICOLON_HEADER,
        )
    )

    assert errors_by_line(exc)[2] == (
        "This row has 8 values; the header has 7 columns "
        "(a semicolon inside a name needs quotes)."
    )


@pytest.mark.parametrize(
    "written", ["Ana Alvarez", "ANA ÁLVAREZ", "Dr. Ana Alvarez", "dra ana  álvarez"]
)
def test_a_surgeon_is_found_by_full_name(surgeon_a: Surgeon, written: str) -> None:
    SurgeonFactory.create(given_name="Ana", family_name="Alvarez", active=False)

    import_csv(csv_bytes(f"R-1,Ana,Abad,1970-05-17,{written},endoscopic,2026-11-02"))

    assert Procedure.objects.get().surgeon == surgeon_a


def test_two_active_surgeons_of_one_name_is_a_row_error_giving_the_logins(
    surgeon_a: Surgeon,
) -> None:
    SurgeonFactory.create(
        given_name="Ána",
        family_name="alvarez",
        user=UserFactory.create(username="aalvarez2", group="surgeon"),
    )

    exc = rejection(
        csv_bytes(
            "R-1,Ana,Abad,1970-05-17,Dra. Ana Alvarez,endoscopic,2026-11-02",
            "R-2,Eva,Sanz,1970-05-17,Ana Alvarez,endoscopic,2026-11-02",
        )
    )

    errors = errors_by_line(exc)
    assert sorted(errors) == [2, 3]
    assert "'Dra. Ana Alvarez' is ambiguous" in errors[2]
    assert "aalvarez2" in errors[2] and "surgeon_a" in errors[2]
    assert not Procedure.objects.exists()


def test_an_unknown_name_says_what_a_surgeon_may_be_given_as(
    surgeon_a: Surgeon,
) -> None:
    exc = rejection(csv_bytes("R-1,Ana,Abad,1970-05-17,Ana Alba,endoscopic,2026-11-02"))

    assert errors_by_line(exc)[2] == (
        "Unknown surgeon 'Ana Alba'; give the surgeon's full name, id or the "
        "username of their login."
    )
