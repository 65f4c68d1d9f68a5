"""A patient's contact details and consent through the API: `phone` in
E.164 (typed in any format, read in CLINIC_PHONE_REGION), `email`, and
`reminders`; `sms` needs a mobile number and `email` an address, else a
400 naming the field, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from clinic.models import Patient
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

NEW = {
    "record_number": "MRN-CONTACT-1",
    "given_name": "José",
    "family_name": "García",
    "birth_date": "1950-03-02",
}


def fields_named(answer: Any) -> list[str]:
    return [item["field"] for item in answer.json().get("errors", [])]


def test_a_patient_is_registered_with_contact_details_and_read_back_in_e164(
    desk: APIClient,
) -> None:
    created = desk.post(
        "/api/patients/",
        {
            **NEW,
            "phone": "612 34 56 78",
            "email": "jose@example.es",
            "reminders": "sms",
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["phone"], body["email"], body["reminders"]) == (
        "+34612345678",
        "jose@example.es",
        "sms",
    )
    again = desk.get(f"/api/patients/{body['id']}/").json()
    assert (again["phone"], again["email"], again["reminders"]) == (
        "+34612345678",
        "jose@example.es",
        "sms",
    )


def test_a_patient_registered_without_them_has_no_consent(desk: APIClient) -> None:
    body = desk.post("/api/patients/", NEW, format="json").json()

    assert (body["phone"], body["email"], body["reminders"]) == ("", "", "none")


def test_the_region_is_read_from_settings_when_used(
    desk: APIClient, settings: Any
) -> None:
    settings.CLINIC_PHONE_REGION = "PT"
    body = desk.post(
        "/api/patients/", {**NEW, "phone": "912 345 678"}, format="json"
    ).json()

    assert body["phone"] == "+351912345678"


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"reminders": "sms"}, "phone", "sms_needs_mobile"),
        ({"reminders": "sms", "phone": "912 34 56 78"}, "phone", "sms_needs_mobile"),
        ({"reminders": "email"}, "email", "email_needs_address"),
        ({"phone": "12ab"}, "phone", "invalid_phone"),
        ({"email": "jose.example.es"}, "email", "invalid_email"),
    ],
)
def test_a_consent_without_what_it_needs_is_a_400_naming_the_field(
    desk: APIClient, given: dict[str, str], field: str, code: str
) -> None:
    answer = desk.post("/api/patients/", {**NEW, **given}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert fields_named(answer) == [field]
    assert not Patient.objects.filter(record_number=NEW["record_number"]).exists()


def test_an_unknown_reminder_channel_is_a_400_naming_reminders(
    desk: APIClient,
) -> None:
    answer = desk.post("/api/patients/", {**NEW, "reminders": "fax"}, format="json")

    assert answer.status_code == 400
    assert fields_named(answer) == ["reminders"]


def test_a_correction_sets_the_consent_against_the_details_already_held(
    world: World, desk: APIClient
) -> None:
    url = f"/api/patients/{world.patient_a.pk}/"
    assert (
        desk.patch(url, {"phone": "+34 600 11 22 33"}, format="json").status_code == 200
    )

    answer = desk.patch(url, {"reminders": "sms"}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["reminders"] == "sms"
    assert answer.json()["phone"] == "+34600112233"


def test_a_number_reported_wrong_reads_as_held_until_it_is_corrected(
    world: World, desk: APIClient
) -> None:
    url = f"/api/patients/{world.patient_a.pk}/"
    desk.patch(url, {"phone": "+34 600 11 22 33"}, format="json")
    assert desk.get(url).json()["texts_held"] is False
    Patient.objects.filter(pk=world.patient_a.pk).update(
        wrong_phone="+34600112233", wrong_phone_at=world.patient_a.created_at
    )
    assert desk.get(url).json()["texts_held"] is True

    answer = desk.patch(url, {"phone": "+34 600 11 22 44"}, format="json")

    assert (answer.status_code, answer.json()["texts_held"]) == (200, False)


def test_a_correction_refused_for_its_consent_changes_nothing(
    world: World, desk: APIClient
) -> None:
    url = f"/api/patients/{world.patient_a.pk}/"
    desk.patch(url, {"phone": "600112233", "reminders": "sms"}, format="json")

    emptied = desk.patch(url, {"phone": ""}, format="json")
    landline = desk.patch(url, {"phone": "912345678"}, format="json")
    by_email = desk.patch(url, {"reminders": "email"}, format="json")

    assert [a.status_code for a in (emptied, landline, by_email)] == [400, 400, 400]
    assert fields_named(emptied) == ["phone"]
    assert fields_named(by_email) == ["email"]
    world.patient_a.refresh_from_db()
    assert (world.patient_a.phone, world.patient_a.reminders) == ("+34600112233", "sms")


def test_the_patient_search_finds_an_unaccented_name_and_a_phone(
    world: World, desk: APIClient
) -> None:
    desk.patch(
        f"/api/patients/{world.patient_a.pk}/",
        {"family_name": "Abad Muñoz", "phone": "600 11 22 33"},
        format="json",
    )

    by_name = desk.get("/api/patients/", {"q": "ana munoz"}).json()["results"]
    by_phone = desk.get("/api/patients/", {"q": "+34600112233"}).json()["results"]

    assert [p["id"] for p in by_name] == [world.patient_a.pk]
    assert [p["id"] for p in by_phone] == [world.patient_a.pk]


def test_the_api_registers_a_birth_date_over_110_years_ago_without_asking(
    desk: APIClient,
) -> None:
    answer = desk.post(
        "/api/patients/", {**NEW, "birth_date": "1912-03-04"}, format="json"
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["birth_date"] == "1912-03-04"
