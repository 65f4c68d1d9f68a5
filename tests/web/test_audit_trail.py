"""An append-only audit trail.

Writes to patients, procedures, calendar links and users name who made
them, when, and what changed; staff reads of a patient's record are
recorded; revoking or rotating a link records its actor and keeps its
last-use time; a clinic admin reads it all in the admin, by patient or by
user, and nobody can change or delete it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.models import Patient, PatientView, Procedure, Surgeon
from feeds import links
from feeds.models import CalendarLink
from tests.factories import PatientFactory, make_procedure

pytestmark = pytest.mark.django_db


def entries_for(obj: object) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("pk"))


# --- writes ------------------------------------------------------------------


def test_creating_and_correcting_a_patient_names_the_clerk_and_the_change(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)

    created = client.post(
        "/api/patients/",
        {
            "record_number": "H-1001",
            "given_name": "Lucia",
            "family_name": "Moreno",
            "birth_date": "1980-03-04",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    patient = Patient.objects.get(record_number="H-1001")
    corrected = client.patch(
        f"/api/patients/{patient.pk}/",
        {"family_name": "Moreno Ruiz"},
        content_type="application/json",
    )
    assert corrected.status_code == 200

    create, update = entries_for(patient)
    assert create.action == LogEntry.Action.CREATE
    assert update.action == LogEntry.Action.UPDATE
    assert create.actor == update.actor == front_desk
    assert update.changes_dict["family_name"] == ["Moreno", "Moreno Ruiz"]
    assert update.timestamp <= timezone.now()


def test_a_procedure_is_in_its_patients_trail(
    client: Client, front_desk: User, surgeon_a: Surgeon
) -> None:
    patient = PatientFactory.create()
    client.force_login(front_desk)

    response = client.post(
        "/api/procedures/",
        {
            "patient": patient.pk,
            "surgeon": surgeon_a.pk,
            "kind": "endoscopic",
            "surgery_date": timezone.localdate().isoformat(),
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    procedure = Procedure.objects.get(patient=patient)
    (entry,) = entries_for(procedure)
    assert entry.actor == front_desk
    assert entry.additional_data == {"patient_id": patient.pk}


def test_a_write_with_an_api_token_names_the_tokens_user(front_desk: User) -> None:
    out = io.StringIO()
    call_command("create_api_token", "desk", stdout=out, stderr=io.StringIO())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    patient = PatientFactory.create()

    response = api.patch(
        f"/api/patients/{patient.pk}/", {"given_name": "Ines"}, format="json"
    )

    assert response.status_code == 200
    assert entries_for(patient)[-1].actor == front_desk


def test_a_users_groups_and_password_changes_are_recorded_without_the_hash(
    client: Client, clinic_admin: User, front_desk: User
) -> None:
    client.force_login(clinic_admin)
    surgeon_group = Group.objects.get(name="surgeon")
    before = LogEntry.objects.count()

    response = client.post(
        f"/admin/auth/user/{front_desk.pk}/change/",
        {
            "username": front_desk.username,
            "email": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
            "groups": [surgeon_group.pk],
        },
    )
    assert response.status_code == 302
    new_password = "copper-meadow-violin-42"
    response = client.post(
        f"/admin/auth/user/{front_desk.pk}/password/",
        {"password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302

    trail = entries_for(front_desk)
    new = LogEntry.objects.order_by("pk")[before:]
    assert new and all(entry.actor == clinic_admin for entry in new)
    trail = [entry for entry in trail if entry in new]
    groups = [e for e in trail if "groups" in e.changes_dict]
    assert groups
    assert groups[-1].changes_dict["groups"]["objects"] == ["surgeon"]
    password = [e for e in trail if "password" in e.changes_dict]
    assert password
    front_desk.refresh_from_db()
    for entry in trail:
        assert front_desk.password not in entry.changes_text
        assert front_desk.password[-20:] not in str(entry.changes)


# --- reads -------------------------------------------------------------------


def test_opening_a_patients_page_records_who_viewed_whom(
    client: Client, front_desk: User
) -> None:
    patient = PatientFactory.create()
    client.force_login(front_desk)

    assert client.get(f"/desk/patients/{patient.pk}/").status_code == 200

    (view,) = PatientView.objects.all()
    assert (view.patient, view.viewer, view.channel) == (patient, front_desk, "page")
    assert view.record_number == patient.record_number
    assert abs(timezone.now() - view.viewed_at) < dt.timedelta(minutes=1)


def test_reading_a_patient_in_the_api_records_it(
    client: Client, surgeon_a: Surgeon
) -> None:
    procedure = make_procedure(surgeon=surgeon_a)
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    assert client.get(f"/api/patients/{procedure.patient_id}/").status_code == 200

    (view,) = PatientView.objects.all()
    assert (view.patient_id, view.viewer, view.channel) == (
        procedure.patient_id,
        surgeon_a.user,
        "api",
    )


def test_a_refused_read_records_no_view(
    client: Client, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    theirs = make_procedure(surgeon=surgeon_b)
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    assert client.get(f"/api/patients/{theirs.patient_id}/").status_code == 404
    assert client.get(f"/desk/patients/{theirs.patient_id}/").status_code == 404

    assert not PatientView.objects.exists()


# --- links -------------------------------------------------------------------


def test_rotating_and_revoking_a_link_keep_its_last_use_and_name_the_actor(
    client: Client, front_desk: User
) -> None:
    patient = PatientFactory.create()
    issued = links.create_link(scope="patient", patient_id=patient.pk, by_command=True)
    polled = Client().get(issued.path)
    assert polled.status_code == 200
    last_used = CalendarLink.objects.get(pk=issued.link.pk).last_used_at
    assert last_used is not None
    client.force_login(front_desk)
    base = f"/desk/patients/{patient.pk}/calendar-link/{issued.link.pk}"

    assert client.post(f"{base}/rotate/").status_code == 200
    link = CalendarLink.objects.get(pk=issued.link.pk)
    assert (link.rotated_by, link.last_used_at) == (front_desk, last_used)
    assert link.rotated_at is not None

    assert client.post(f"{base}/revoke/").status_code in (200, 302)
    link.refresh_from_db()
    assert (link.revoked_by, link.last_used_at) == (front_desk, last_used)
    assert link.revoked_at is not None

    trail = entries_for(link)
    assert [e.actor for e in trail[1:]] == [front_desk, front_desk]
    assert "revoked_at" in trail[-1].changes_dict
    assert all("token_hash" not in e.changes_dict for e in trail)
    assert trail[-1].additional_data == {"patient_id": patient.pk}


def test_a_link_revoked_outside_a_request_names_the_services_actor(
    clinic_admin: User,
) -> None:
    issued = links.create_link(scope="clinic", actor=clinic_admin)

    links.revoke_link(link_id=issued.link.pk, now=timezone.now(), actor=clinic_admin)

    assert [e.actor for e in entries_for(issued.link)] == [clinic_admin] * 2


# --- the admin ---------------------------------------------------------------


@pytest.fixture
def trail_of_two(front_desk: User, surgeon_a: Surgeon) -> tuple[Patient, Patient]:
    client = Client()
    client.force_login(front_desk)
    first, second = PatientFactory.create(), PatientFactory.create()
    for patient in (first, second):
        client.patch(
            f"/api/patients/{patient.pk}/",
            {"given_name": "Changed"},
            content_type="application/json",
        )
        client.get(f"/desk/patients/{patient.pk}/")
    make_procedure(patient=first, surgeon=surgeon_a)
    return first, second


def test_an_admin_reads_the_trail_by_patient_and_by_user(
    client: Client,
    clinic_admin: User,
    front_desk: User,
    trail_of_two: tuple[Patient, Patient],
) -> None:
    first, second = trail_of_two
    client.force_login(clinic_admin)

    page = client.get(f"/admin/auditlog/logentry/?patient={first.pk}")
    assert page.status_code == 200
    shown = {entry.pk for entry in page.context["cl"].result_list}
    expected = {
        e.pk
        for e in LogEntry.objects.all()
        if (e.object_pk == str(first.pk) and e.content_type.model == "patient")
        or (e.additional_data or {}).get("patient_id") == first.pk
    }
    assert shown == expected
    assert any(
        e.content_type.model == "procedure" for e in page.context["cl"].result_list
    )

    by_user = client.get(f"/admin/auditlog/logentry/?actor={front_desk.pk}")
    assert by_user.status_code == 200
    assert {e.actor_id for e in by_user.context["cl"].result_list} == {front_desk.pk}

    views = client.get(f"/admin/clinic/patientview/?patient={second.pk}")
    assert views.status_code == 200
    assert [v.patient_id for v in views.context["cl"].result_list] == [second.pk]
    by_viewer = client.get(f"/admin/clinic/patientview/?viewer={front_desk.pk}")
    assert len(by_viewer.context["cl"].result_list) == 2

    nonsense = client.get("/admin/auditlog/logentry/?patient=99999999999999999999")
    assert nonsense.status_code == 200
    assert list(nonsense.context["cl"].result_list) == []


@pytest.mark.parametrize("who", ["clinic_admin", "superuser"])
def test_nobody_changes_or_deletes_the_trail(
    client: Client, clinic_admin: User, trail_of_two: tuple[Patient, Patient], who: str
) -> None:
    user = (
        clinic_admin
        if who == "clinic_admin"
        else User.objects.create_superuser("root", "", "pw-root-1234")
    )
    client.force_login(user)
    entry = LogEntry.objects.first()
    view = PatientView.objects.first()
    assert entry is not None and view is not None
    entries, views = LogEntry.objects.count(), PatientView.objects.count()

    for url in (
        f"/admin/auditlog/logentry/{entry.pk}/delete/",
        f"/admin/clinic/patientview/{view.pk}/delete/",
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403, url
    for url in ("/admin/auditlog/logentry/", "/admin/clinic/patientview/"):
        client.post(
            url,
            {"action": "delete_selected", "_selected_action": [1], "post": "yes"},
        )
    client.post(f"/admin/clinic/patientview/{view.pk}/change/", {"record_number": "X"})
    assert client.get("/admin/auditlog/logentry/add/").status_code == 403

    assert (LogEntry.objects.count(), PatientView.objects.count()) == (entries, views)
    view.refresh_from_db()
    assert view.record_number != "X"


def test_reading_a_patient_in_the_admin_is_recorded_and_links_to_the_trail(
    client: Client, clinic_admin: User
) -> None:
    patient = PatientFactory.create()
    client.force_login(clinic_admin)

    page = client.get(f"/admin/clinic/patient/{patient.pk}/change/")

    assert page.status_code == 200
    assert f"/admin/auditlog/logentry/?patient={patient.pk}" in page.content.decode()
    (view,) = PatientView.objects.all()
    assert (view.patient, view.viewer, view.channel) == (patient, clinic_admin, "admin")
    user_page = client.get(f"/admin/auth/user/{clinic_admin.pk}/change/")
    assert f"/admin/auditlog/logentry/?actor={clinic_admin.pk}" in (
        user_page.content.decode()
    )
