"""A calendar holds at most CALENDAR_LINKS_PER_OWNER live links: one more is refused
with 409 and a reason, and nothing is made."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from feeds.models import CalendarLink

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cap_of_two(settings: Any) -> None:
    settings.CALENDAR_LINKS_PER_OWNER = 2


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(client: Client, **payload: Any) -> Any:
    return client.post("/api/calendar-links/", payload, content_type="application/json")


def test_the_api_refuses_a_link_past_the_cap_with_409(surgeon_a: Surgeon) -> None:
    assert surgeon_a.user is not None
    client = signed_in(surgeon_a.user)
    assert [create(client, scope="surgeon").status_code for _ in range(2)] == [
        201,
        201,
    ]

    refused = create(client, scope="surgeon")

    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_links"
    assert "already has 2 live links" in refused.json()["detail"]
    assert "Revoke one" in refused.json()["detail"]
    assert CalendarLink.objects.filter(surgeon=surgeon_a).count() == 2


def test_revoking_one_makes_room_and_other_calendars_are_not_counted(
    surgeon_a: Surgeon, surgeon_b: Surgeon, clinic_admin: User
) -> None:
    admin = signed_in(clinic_admin)
    made = [create(admin, scope="surgeon", surgeon=surgeon_a.pk) for _ in range(2)]
    assert create(admin, scope="surgeon", surgeon=surgeon_b.pk).status_code == 201
    assert create(admin, scope="surgeon", surgeon=surgeon_a.pk).status_code == 409

    assert admin.delete(f"/api/calendar-links/{made[0].json()['id']}/").status_code
    assert create(admin, scope="surgeon", surgeon=surgeon_a.pk).status_code == 201


def test_the_clinic_link_is_capped_too(clinic_admin: User) -> None:
    admin = signed_in(clinic_admin)
    statuses = [create(admin, scope="clinic").status_code for _ in range(3)]

    assert statuses == [201, 201, 409]


def test_the_admin_site_refuses_a_link_past_the_cap(surgeon_a: Surgeon) -> None:
    superuser = User.objects.create_superuser("root", password="pw-for-tests-only")
    client = signed_in(superuser)
    form = {"scope": "surgeon", "surgeon": surgeon_a.pk, "patient": ""}
    for _ in range(2):
        client.post("/admin/feeds/calendarlink/add/", form)

    response = client.post("/admin/feeds/calendarlink/add/", form)

    assert response.status_code == 200
    assert "already has 2 live links" in response.content.decode()
    assert CalendarLink.objects.filter(surgeon=surgeon_a).count() == 2
