"""The patient search finds a patient the way a clerk types them: a name
without its accents or capitals, a record number, a phone number in any
format, a birth date as the clinic writes it or in ISO."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient
from clinic.search import fold
from followup import services
from followup.services import Contact
from tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def jose() -> Patient:
    return services.create_patient(
        record_number="H-100231",
        given_name="José",
        family_name="García Núñez",
        birth_date=dt.date(1950, 3, 2),
        today=TODAY,
        contact=Contact.parse(phone="612 34 56 78"),
    )


@pytest.fixture
def others() -> list[Patient]:
    return [
        PatientFactory.create(
            record_number="MRN00012",
            given_name="Josefa",
            family_name="Martín",
            birth_date=dt.date(1961, 7, 9),
        ),
        PatientFactory.create(
            record_number="MRN00013",
            given_name="Ana",
            family_name="Garcés",
            birth_date=dt.date(1950, 3, 3),
        ),
    ]


def found(q: str) -> list[str]:
    return sorted(Patient.objects.search(q).values_list("record_number", flat=True))


@pytest.mark.parametrize(
    "q",
    [
        "Jose Garcia",
        "jose garcia",
        "JOSÉ GARCÍA",
        "garcia nunez",
        "Núñez José",
        "  jose   nunez ",
    ],
)
def test_a_name_finds_the_patient_whatever_its_accents_and_capitals(
    jose: Patient, others: list[Patient], q: str
) -> None:
    assert found(q) == ["H-100231"]


def test_a_first_name_alone_finds_everyone_whose_name_holds_it(
    jose: Patient, others: list[Patient]
) -> None:
    assert found("jose") == ["H-100231", "MRN00012"]


@pytest.mark.parametrize("q", ["H-100231", "h-100231", "100231"])
def test_a_record_number_or_part_of_it_finds_the_patient(
    jose: Patient, others: list[Patient], q: str
) -> None:
    assert found(q) == ["H-100231"]


@pytest.mark.parametrize(
    "q",
    ["612 34 56 78", "612345678", "612-345-678", "+34 612 34 56 78", "0034612345678"],
)
def test_a_phone_number_in_any_format_finds_the_patient(
    jose: Patient, others: list[Patient], q: str
) -> None:
    assert found(q) == ["H-100231"]


def test_the_phone_is_stored_in_e164(jose: Patient) -> None:
    jose.refresh_from_db()
    assert jose.phone == "+34612345678"


@pytest.mark.parametrize(
    "q", ["1950-03-02", "2 Mar 1950", "Thu 2 Mar 1950", "02/03/1950"]
)
def test_a_birth_date_in_the_clinics_format_or_iso_finds_the_patient(
    jose: Patient, others: list[Patient], q: str
) -> None:
    assert found(q) == ["H-100231"]


def test_a_name_and_a_birth_date_together_narrow_the_search(
    jose: Patient, others: list[Patient]
) -> None:
    PatientFactory.create(
        record_number="MRN00099", given_name="Jose", family_name="Garcia"
    )
    assert found("garcia 1950-03-02") == ["H-100231"]


def test_a_corrected_name_is_found_by_its_new_spelling(jose: Patient) -> None:
    services.correct_patient(patient_id=jose.pk, today=TODAY, family_name="Pérez")
    assert found("jose perez") == ["H-100231"]
    assert found("garcia") == []


def test_what_nobody_is_called_finds_nobody(
    jose: Patient, others: list[Patient]
) -> None:
    assert found("Zapatero") == []


def test_folding_drops_accents_capitals_and_punctuation() -> None:
    assert fold("Ñúñez-O'Brien  ÇAĞLAR Øyvind Strauß") == (
        "nunez obrien caglar oyvind strauss"
    )


def _plan(q: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            sql, params = Patient.objects.search(q).query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("SET enable_seqscan = on")


@pytest.mark.parametrize(
    ("q", "index"),
    [
        ("garcia", "patient_search_name_trgm"),
        ("612 34 56 78", "patient_by_phone"),
        ("1950-03-02", "patient_by_birth_date"),
    ],
)
def test_each_kind_of_search_is_served_by_an_index(
    q: str, index: str, **_: Any
) -> None:
    assert index in _plan(q)


def test_a_search_is_one_query(jose: Patient) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert found("jose garcia") == ["H-100231"]
    assert len(queries) == 1
