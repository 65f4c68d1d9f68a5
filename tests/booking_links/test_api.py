"""`POST /api/visits/{id}/booking-link/`: the front desk makes a link, shown
once; every other role is refused and nothing is made."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from booking_links.models import BookingLink
from core.tokens import hash_token
from followup import services
from tests.api.conftest import NOW, World, client_for, users  # noqa: F401
from tests.booking_links.conftest import patient_client

pytestmark = pytest.mark.django_db

Clients = Callable[[str], APIClient]


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin"])
def test_the_desk_makes_a_link_and_sees_its_url_once(
    world: World,
    client_for: Clients,  # noqa: F811
    role: str,
) -> None:
    response = client_for(role).post(f"/api/visits/{world.visit_a.pk}/booking-link/")

    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith("http://testserver/p/")
    token = url.removeprefix("http://testserver/p/").rstrip("/")
    link = BookingLink.objects.get(visit=world.visit_a)
    assert link.token_hash == hash_token(token)
    assert link.created_by is not None
    assert patient_client().get(url).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 403), ("surgeon_a", 403), ("surgeon_b", 403)],
)
def test_others_are_refused_and_no_link_is_made(
    world: World,
    client_for: Clients,  # noqa: F811
    role: str,
    status: int,
) -> None:
    response = client_for(role).post(f"/api/visits/{world.visit_a.pk}/booking-link/")

    assert response.status_code in (status, 401)
    assert not BookingLink.objects.exists()


def test_a_cancelled_visit_gets_no_link(
    world: World,
    client_for: Clients,  # noqa: F811
) -> None:
    services.cancel_visit(
        visit_id=world.visit_a.pk, reason="Not needed", actor=None, now=NOW
    )

    response = client_for("front_desk").post(
        f"/api/visits/{world.visit_a.pk}/booking-link/"
    )

    assert response.status_code == 409
    assert not BookingLink.objects.exists()


def test_an_unknown_visit_is_404(client_for: Clients) -> None:  # noqa: F811
    response = client_for("front_desk").post("/api/visits/999999/booking-link/")

    assert response.status_code == 404
