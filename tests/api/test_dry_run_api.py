"""`PATCH /api/procedures/{id}/?dry_run=true`: the changes, written nowhere."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from feeds.models import FeedVersion
from followup.models import Visit, VisitEvent
from tests.api.conftest import World, put_in_state

pytestmark = pytest.mark.django_db


def test_a_dry_run_answers_the_changes_and_writes_nothing(
    world: World, desk: APIClient
) -> None:
    booked = put_in_state(world.visit_a, "booked")
    url = f"/api/procedures/{world.procedure_a.pk}/?dry_run=true"
    rows = list(Visit.objects.order_by("pk").values())
    counts = (VisitEvent.objects.count(), list(FeedVersion.objects.values_list()))

    response = desk.patch(
        url, {"surgery_date": "2026-11-01", "kind": "endoscopic"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True
    assert body["procedure"]["surgery_date"] == "2026-11-20"  # unchanged
    assert booked.pk in body["changes"]["flagged"]
    flagged = next(i for i in body["preview"] if i["visit"] == booked.pk)
    assert flagged["action"] == "flagged_for_rebooking"
    assert flagged["before"]["window_start"] == "2026-11-27"
    assert flagged["after"]["window_start"] == "2026-11-08"
    annual = [i for i in body["preview"] if i["rule"] == "annual_mri_review"]
    assert annual and {i["action"] for i in annual} == {"cancelled"}
    assert all(i["after"] is None for i in annual)
    assert list(Visit.objects.order_by("pk").values()) == rows
    assert (VisitEvent.objects.count(), list(FeedVersion.objects.values_list())) == (
        counts
    )


def test_a_dry_run_refuses_what_the_correction_refuses(
    world: World, desk: APIClient
) -> None:
    response = desk.patch(
        f"/api/procedures/{world.procedure_a.pk}/?dry_run=true",
        {"surgery_date": "2099-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "surgery_date_too_far"


def test_a_dry_run_needs_the_right_to_correct(world: World, client_for: object) -> None:
    surgeon = client_for("surgeon_a")  # type: ignore[operator]

    response = surgeon.patch(
        f"/api/procedures/{world.procedure_a.pk}/?dry_run=true",
        {"kind": "endoscopic"},
        format="json",
    )

    assert response.status_code == 403


def test_a_real_correction_says_it_was_not_a_dry_run(
    world: World, desk: APIClient
) -> None:
    response = desk.patch(
        f"/api/procedures/{world.procedure_a.pk}/",
        {"kind": "endoscopic"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["dry_run"] is False
    assert response.json()["preview"] is None
