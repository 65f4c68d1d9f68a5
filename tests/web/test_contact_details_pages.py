"""A patient's contact details and consent on the pages: typed at
registration, shown on the patient page with the phone as a `tel:` link,
changed there; a consent without what it needs is refused on the field,
with what was typed kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from clinic.models import Patient, Reminders, Surgeon
from followup import services
from tests.factories import TODAY, PatientFactory
from tests.followup.world import NOW
from tests.web.test_registration import URL, fingerprint, typed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


def details_url(patient: Patient) -> str:
    return f"/desk/patients/{patient.pk}/contact-details/"


def field_errors(response: Any, name: str) -> list[str]:
    return list(response.context["details_form"].errors.get(name, []))


def test_a_patient_registered_with_contact_details_keeps_them(
    desk: Client, surgeon_a: Surgeon
) -> None:
    given = typed(
        surgeon_a, phone="612 34 56 78", email="elena@example.es", reminders="sms"
    )
    preview = desk.post(URL, {**given, "action": "preview"})

    saved = desk.post(
        URL, {**given, "action": "save", "previewed": fingerprint(preview)}
    )

    assert saved.status_code == 302
    patient = Patient.objects.get(record_number=given["record_number"])
    assert (patient.phone, patient.email, patient.reminders) == (
        "+34612345678",
        "elena@example.es",
        "sms",
    )


def test_registration_refuses_sms_without_a_mobile_on_the_phone_field(
    desk: Client, surgeon_a: Surgeon
) -> None:
    given = typed(surgeon_a, phone="912 34 56 78", reminders="sms")

    response = desk.post(URL, {**given, "action": "preview"})

    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == [
        "Reminders by SMS need a mobile number; phone 912 34 56 78 is a fixed "
        "line, which cannot take texts."
    ]
    assert 'value="912 34 56 78"' in response.content.decode()
    assert not Patient.objects.exists()


def test_the_patient_page_shows_the_phone_as_a_link_to_call(
    desk: Client,
) -> None:
    patient = PatientFactory.create()
    services.correct_patient(
        patient_id=patient.pk,
        today=TODAY,
        phone="+34612345678",
        reminders=Reminders.SMS,
    )

    html = desk.get(f"/desk/patients/{patient.pk}/").content.decode()

    assert '<a class="phone" href="tel:+34612345678">612 34 56 78</a>' in html
    assert "By SMS" in html


def test_the_patient_page_changes_the_contact_details(desk: Client) -> None:
    patient = PatientFactory.create()

    saved = desk.post(
        details_url(patient),
        {
            "phone": "+34 600-11-22-33",
            "email": "maria@example.es",
            "reminders": "email",
        },
    )

    assert saved.status_code == 302
    assert saved["Location"] == f"/desk/patients/{patient.pk}/#contact-details"
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.reminders) == (
        "+34600112233",
        "maria@example.es",
        "email",
    )


@pytest.mark.parametrize(
    ("typed_in", "field", "said"),
    [
        ({"reminders": "email", "phone": "600112233"}, "email", "need an email"),
        ({"reminders": "sms", "email": "maria@example.es"}, "phone", "need a mobile"),
        ({"phone": "call me", "reminders": "none"}, "phone", "is not a phone number"),
        ({"email": "maria@", "reminders": "none"}, "email", "is not an email"),
    ],
)
def test_a_refused_change_says_why_on_the_field_and_keeps_what_was_typed(
    desk: Client, typed_in: dict[str, str], field: str, said: str
) -> None:
    patient = PatientFactory.create()
    sent = {"phone": "", "email": "", **typed_in}

    response = desk.post(details_url(patient), sent)

    assert response.status_code == 400
    assert any(said in error for error in field_errors(response, field))
    html = response.content.decode()
    for value in (v for v in sent.values() if v and v != "none"):
        assert f'value="{value}"' in html
    assert "Not saved:" in html
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.reminders) == ("", "", "none")


def test_a_surgeon_sees_the_contact_details_but_no_form(
    client: Client, surgeon_a: Surgeon
) -> None:
    from tests.factories import make_procedure

    procedure = make_procedure(surgeon=surgeon_a, today=TODAY)
    services.correct_patient(
        patient_id=procedure.patient_id, today=TODAY, phone="+34612345678"
    )
    assert surgeon_a.user is not None
    client.force_login(surgeon_a.user)

    html = client.get(f"/desk/patients/{procedure.patient_id}/").content.decode()
    refused = client.post(
        f"/desk/patients/{procedure.patient_id}/contact-details/", {"phone": ""}
    )

    assert 'href="tel:+34612345678"' in html
    assert "Save contact details" not in html
    assert refused.status_code == 403


def shown_on(page: Any) -> str:
    """The contact details' form's hidden `shown`, as the page rendered it."""
    found = re.search(r'name="shown" value="([^"]*)"', page.content.decode())
    return found.group(1) if found else ""


def test_details_saved_from_a_page_older_than_another_clerks_change_are_refused(
    desk: Client, front_desk: Any
) -> None:
    """Two clerks have the patient's page open; the first corrects the
    phone; the second, on the page as it was, turns on reminders by email
    and posts the old phone with it: the correction is kept, and they are
    told, what they typed still in the form."""
    patient = PatientFactory.create()
    services.correct_patient(patient_id=patient.pk, today=TODAY, phone="612345678")
    stale = shown_on(desk.get(f"/desk/patients/{patient.pk}/"))
    first = Client()
    first.force_login(front_desk)
    corrected = first.post(
        details_url(patient),
        {
            "phone": "600 11 22 33",
            "email": "",
            "reminders": "none",
            "shown": shown_on(first.get(f"/desk/patients/{patient.pk}/")),
        },
    )
    assert corrected.status_code == 302

    response = desk.post(
        details_url(patient),
        {
            "phone": "612 34 56 78",
            "email": "maria@example.es",
            "reminders": "email",
            "shown": stale,
        },
    )

    assert response.status_code == 409
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.reminders) == (
        "+34600112233",
        "",
        "none",
    )
    html = response.content.decode()
    assert "Not saved: Someone changed the contact details after this page" in html
    assert 'value="maria@example.es"' in html
    assert shown_on(response) != stale  # saved again, it goes through


def test_details_posted_twice_are_saved_once_and_not_refused(desk: Client) -> None:
    patient = PatientFactory.create()
    shown = shown_on(desk.get(f"/desk/patients/{patient.pk}/"))
    typed_in = {
        "phone": "600 11 22 33",
        "email": "maria@example.es",
        "reminders": "email",
        "shown": shown,
    }

    answers = [desk.post(details_url(patient), typed_in) for _ in "12"]

    assert [answer.status_code for answer in answers] == [302, 302]
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.reminders) == (
        "+34600112233",
        "maria@example.es",
        "email",
    )
