"""Who may mint a working feed URL: the role held now, with change rights."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from feeds import links
from feeds.models import CalendarLink
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_clerk_who_left_the_front_desk_can_no_longer_rotate_their_links(
    front_desk: User,
) -> None:
    client = Client()
    client.force_login(front_desk)
    created = client.post(
        "/api/calendar-links/",
        {"scope": "patient", "patient": PatientFactory.create().pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    link_id = created.json()["id"]

    front_desk.groups.remove(Group.objects.get(name="front_desk"))
    rotated = client.post(f"/api/calendar-links/{link_id}/rotate/")

    assert rotated.status_code == 404
    assert "url" not in rotated.json()
    assert CalendarLink.objects.get(pk=link_id).revoked_at is None


def test_a_view_only_staff_user_cannot_rotate_or_revoke_links_in_the_admin() -> None:
    viewer = UserFactory.create(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_calendarlink"))
    issued = links.create_link(scope="clinic", by_command=True)
    client = Client()
    client.force_login(viewer)

    for action in ("rotate", "revoke"):
        response: Any = client.post(
            "/admin/feeds/calendarlink/",
            {"action": action, "_selected_action": [issued.link.pk]},
        )
        assert "calendar.ics" not in response.content.decode()
        assert ".ics" not in " ".join(str(m) for m in response.context["messages"])

    link = CalendarLink.objects.get(pk=issued.link.pk)
    assert link.token_hash == issued.link.token_hash
    assert link.revoked_at is None


def test_a_clinic_admin_can_revoke_any_link_in_the_admin() -> None:
    clinic_admin = UserFactory.create(
        username="clinic_admin2", group="clinic_admin", is_staff=True
    )
    issued = links.create_link(scope="clinic", by_command=True)
    client = Client()
    client.force_login(clinic_admin)

    response = client.post(
        "/admin/feeds/calendarlink/",
        {"action": "revoke", "_selected_action": [issued.link.pk]},
    )

    assert response.status_code == 302
    assert CalendarLink.objects.get(pk=issued.link.pk).revoked_at is not None
