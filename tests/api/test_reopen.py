"""`POST /api/visits/{id}/reopen/`: a clinic admin's undo of a mistaken cancel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from followup.models import Visit, VisitEvent, VisitStatus
from tests.api.conftest import World, put_in_state

pytestmark = pytest.mark.django_db


def cancelled(world: World) -> Visit:
    visit = put_in_state(world.visit_a, VisitStatus.CANCELLED)
    Visit.objects.filter(pk=visit.pk).update(cancel_reason="Slip")
    return visit


def test_a_clinic_admin_reopens_a_cancelled_visit(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    visit = cancelled(world)

    response = client_for("clinic_admin").post(
        f"/api/visits/{visit.pk}/reopen/", {"reason": "Wrong patient"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "to_book"
    event = VisitEvent.objects.filter(visit=visit).latest("pk")
    assert (event.action, event.reason) == ("reopened", "Wrong patient")


@pytest.mark.parametrize("role", ["front_desk", "surgeon_a"])
def test_only_clinic_admins_may_reopen(
    role: str, world: World, client_for: Callable[[str], APIClient]
) -> None:
    visit = cancelled(world)

    response = client_for(role).post(
        f"/api/visits/{visit.pk}/reopen/", {"reason": "Wrong patient"}, format="json"
    )

    assert response.status_code == 403
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 400), ({"reason": "  "}, 400), ({"reason": "Wrong patient"}, 409)],
)
def test_a_refused_reopen_changes_nothing(
    body: dict[str, str],
    status: int,
    world: World,
    client_for: Callable[[str], APIClient],
) -> None:
    # A visit still to book cannot be reopened (409).
    visit = cancelled(world) if status == 400 else world.visit_a
    events = VisitEvent.objects.count()

    response = client_for("clinic_admin").post(
        f"/api/visits/{visit.pk}/reopen/", body, format="json"
    )

    assert response.status_code == status, response.content
    assert VisitEvent.objects.count() == events
    assert Visit.objects.get(pk=visit.pk).status == visit.status
