"""The demo clinic, the admin a clinic admin uses, and the settings helpers."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from clinic.models import Patient, Procedure
from config import settings as config_settings
from followup.models import FollowUpRule, RecoveryMilestone, Visit
from tests.factories import PatientFactory, SurgeonFactory, make_procedure
from tests.followup.test_rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db


def test_the_protocol_rows_match_the_clinic_protocol_of_the_spec() -> None:
    stored = sorted(
        (rule.as_spec() for rule in FollowUpRule.objects.all()), key=lambda r: r.code
    )

    assert stored == sorted(DEFAULT_RULES, key=lambda r: r.code)
    assert set(RecoveryMilestone.objects.values_list("code", flat=True)) == {
        "daily_activity",
        "sports_resumed",
        "intense_effort",
    }


def test_seed_demo_loads_the_clinic_once_and_prints_the_logins() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = (Patient.objects.count(), Procedure.objects.count(), Visit.objects.count())

    again = io.StringIO()
    call_command("seed_demo", stdout=again)

    assert first[0] == 50
    assert first[2] > 100
    assert (
        Patient.objects.count(),
        Procedure.objects.count(),
        Visit.objects.count(),
    ) == first
    assert "already loaded" in again.getvalue()
    for username in ("admin", "desk", "surgeon1", "surgeon2"):
        assert username in out.getvalue()
    assert User.objects.get(username="surgeon1").surgeon is not None


def test_a_clinic_admin_can_open_every_admin_list(client: Client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(username="admin"))

    for url in (
        "/admin/",
        "/admin/clinic/patient/",
        "/admin/clinic/procedure/",
        "/admin/clinic/surgeon/",
        "/admin/followup/followuprule/",
        "/admin/followup/recoverymilestone/",
        "/admin/followup/visit/",
        f"/admin/clinic/procedure/{Procedure.objects.first().pk}/change/",  # type: ignore[union-attr]
    ):
        assert client.get(url).status_code == 200, url


def test_the_admin_asks_an_anonymous_visitor_to_log_in(client: Client) -> None:
    response = client.get("/admin/clinic/patient/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/clinic/patient/"


@pytest.mark.parametrize(
    ("helper", "name", "raw", "message"),
    [
        (config_settings.env_bool, "X_FLAG", "perhaps", "is not a boolean"),
        (config_settings.env_int, "X_YEARS", "two", "is not an integer"),
        (config_settings.env_time_zone, "X_TZ", "Europe/Atlantis", "is not a known"),
    ],
)
def test_settings_helpers_fail_loudly_on_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, helper, name: str, raw: str, message: str
) -> None:
    monkeypatch.setenv(name, raw)

    with pytest.raises(ImproperlyConfigured, match=f"{name}={raw!r} {message}"):
        helper(name, "x" if helper is not config_settings.env_int else 1)


def _admin_client(client: Client) -> Client:
    client.force_login(
        User.objects.create_superuser("root", "root@clinic.example", "pw-root-1234")
    )
    return client


def test_renaming_a_patient_in_the_admin_republishes_their_visits(
    client: Client,
) -> None:
    procedure = make_procedure()
    patient = procedure.patient
    before = sorted(procedure.visits.values_list("sequence", flat=True))

    response = _admin_client(client).post(
        f"/admin/clinic/patient/{patient.pk}/change/",
        {
            "record_number": patient.record_number,
            "given_name": "Mariana",
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
        },
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.given_name == "Mariana"
    after = sorted(procedure.visits.values_list("sequence", flat=True))
    assert after == [s + 1 for s in before]


def test_the_admin_refuses_a_procedure_the_service_would_refuse(
    client: Client,
) -> None:
    patient, surgeon = PatientFactory.create(), SurgeonFactory.create()

    response = _admin_client(client).post(
        "/admin/clinic/procedure/add/",
        {
            "patient": patient.pk,
            "surgeon": surgeon.pk,
            "kind": "endoscopic",
            "surgery_date": "2099-01-01",
            "visits-TOTAL_FORMS": "0",
            "visits-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "days ahead; check the year" in response.content.decode()
    assert Procedure.objects.count() == 0


def test_the_admin_cannot_move_a_procedure_to_another_surgeon(client: Client) -> None:
    procedure = make_procedure()
    other = SurgeonFactory.create()

    _admin_client(client).post(
        f"/admin/clinic/procedure/{procedure.pk}/change/",
        {
            "surgeon": other.pk,
            "visits-TOTAL_FORMS": "0",
            "visits-INITIAL_FORMS": "0",
        },
    )

    procedure.refresh_from_db()
    assert procedure.surgeon_id != other.pk
