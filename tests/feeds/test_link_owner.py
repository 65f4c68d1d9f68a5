"""A link lives only while its owner is active and holds the role that made it.

A surgeon's feed kept serving after their account was
deactivated or their role removed. A surgeon link belongs to the surgeon's
login; a patient or clinic link to the staff user who issued its current URL
(who rotated it last, else who created it).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from clinic.models import Surgeon
from feeds import links
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]


def created_by(user: User, **payload: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.post(
        "/api/calendar-links/", payload, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    url: str = response.json()["url"]
    return "/" + url.split("/", 3)[3]


def answer(path: str) -> tuple[int, bytes, str]:
    response = Client().get(path)
    return response.status_code, response.content, response["Content-Type"]


def unknown() -> tuple[int, bytes, str]:
    return answer(links.feed_path("A" * 43))


def deactivate(user: User) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_a_deactivated_surgeons_feed_gets_the_unknown_token_404(
    surgeon_a: Surgeon,
) -> None:
    assert surgeon_a.user is not None
    path = created_by(surgeon_a.user, scope="surgeon")
    assert answer(path)[0] == 200

    deactivate(surgeon_a.user)

    assert answer(path) == unknown()
    assert answer(path)[0] == 404


def test_a_surgeon_stripped_of_the_role_loses_the_feed(surgeon_a: Surgeon) -> None:
    assert surgeon_a.user is not None
    path = created_by(surgeon_a.user, scope="surgeon")

    surgeon_a.user.groups.remove(Group.objects.get(name="surgeon"))

    assert answer(path) == unknown()


def test_a_surgeon_record_without_a_login_serves_no_feed(surgeon_a: Surgeon) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    surgeon_a.user = None
    surgeon_a.save(update_fields=["user"])

    assert answer(issued.path) == unknown()


def test_a_patient_link_ends_with_the_clerk_who_handed_it_out(
    front_desk: User,
) -> None:
    patient = PatientFactory.create()
    path = created_by(front_desk, scope="patient", patient=patient.pk)
    assert answer(path)[0] == 200

    front_desk.groups.clear()
    assert answer(path) == unknown()

    front_desk.groups.add(Group.objects.get(name="front_desk"))
    assert answer(path)[0] == 200
    deactivate(front_desk)
    assert answer(path) == unknown()


def test_the_clinic_link_ends_when_its_admin_loses_the_role(
    clinic_admin: User,
) -> None:
    path = created_by(clinic_admin, scope="clinic")
    assert answer(path)[0] == 200

    clinic_admin.groups.clear()

    assert answer(path) == unknown()


def test_a_link_issued_by_a_command_keeps_serving() -> None:
    # Said explicitly: no account whose end could end it.
    assert answer(links.create_link(scope="clinic", by_command=True).path)[0] == 200


def test_a_clerk_still_at_the_desk_revives_a_departed_clerks_link_by_rotating(
    front_desk: User,
) -> None:
    patient = PatientFactory.create()
    path = created_by(front_desk, scope="patient", patient=patient.pk)
    deactivate(front_desk)
    colleague = UserFactory.create(username="desk2", group="front_desk")
    client = Client()
    client.force_login(colleague)

    # The desk sees the link is not serving, on the patient's page and the API.
    page = client.get(f"/desk/patients/{patient.pk}/").content.decode()
    assert "Not serving: the account that issued this URL" in page
    assert '<a href="#calendar-link">Not serving</a>' in page
    (listed,) = client.get("/api/calendar-links/").json()["results"]
    assert listed["serving"] is False

    rotated = client.post(f"/api/calendar-links/{listed['id']}/rotate/")
    assert rotated.status_code == 200
    assert rotated.json()["serving"] is True
    new_path = "/" + rotated.json()["url"].split("/", 3)[3]
    assert answer(new_path)[0] == 200
    assert answer(path) == unknown()  # the departed clerk's URL stays dead
    page = client.get(f"/desk/patients/{patient.pk}/").content.decode()
    assert "Not serving" not in page
    assert '<a href="#calendar-link">Linked</a>' in page
