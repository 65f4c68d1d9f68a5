"""Every row of the visit state table (SPEC section 2) through the API.

Each command tried from each status: an allowed move answers 200 with the new
status and writes an event; a refused one answers 409 `invalid_transition`
and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from followup.models import Visit, VisitEvent, VisitStatus
from tests.api.conftest import EARLIER_TODAY, FREE_SLOT, World, put_in_state

pytestmark = pytest.mark.django_db

S = VisitStatus
COMMANDS = ("book", "reschedule", "unbook", "cancel", "check-in", "no-show", "complete")
# (from status, command) -> the status it leads to; absent pairs are refused.
ALLOWED = {
    (S.TO_BOOK, "book"): S.BOOKED,
    (S.TO_BOOK, "cancel"): S.CANCELLED,
    (S.BOOKED, "reschedule"): S.BOOKED,
    (S.BOOKED, "unbook"): S.TO_BOOK,
    (S.BOOKED, "check-in"): S.CHECKED_IN,
    (S.BOOKED, "no-show"): S.NO_SHOW,
    (S.BOOKED, "cancel"): S.CANCELLED,
    (S.CHECKED_IN, "complete"): S.COMPLETED,
    (S.NO_SHOW, "book"): S.BOOKED,
    (S.NO_SHOW, "cancel"): S.CANCELLED,
}


def body_for(command: str, world: World) -> dict[str, Any]:
    if command in ("book", "reschedule"):
        # An hour after the slot the visit may already hold: always free.
        start = FREE_SLOT + dt.timedelta(hours=1)
        return {"start": start.isoformat(), "surgeon": world.procedure_a.surgeon_id}
    if command == "cancel":
        return {"reason": "No longer needed"}
    return {}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("status", list(S))
def test_each_command_from_each_status_follows_the_state_table(
    status: S, command: str, world: World, desk: APIClient
) -> None:
    # Check-in and no-show are due for a booking that started an hour ago.
    start = EARLIER_TODAY if command in ("check-in", "no-show") else FREE_SLOT
    visit = put_in_state(world.visit_a, status, start)
    events_before = VisitEvent.objects.filter(visit=visit).count()

    response = desk.post(
        f"/api/visits/{visit.pk}/{command}/", body_for(command, world), format="json"
    )

    visit.refresh_from_db()
    if (status, command) in ALLOWED:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == ALLOWED[status, command]
        assert visit.status == ALLOWED[status, command]
        assert VisitEvent.objects.filter(visit=visit).count() == events_before + 1
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "invalid_transition"
        assert visit.status == status
        assert VisitEvent.objects.filter(visit=visit).count() == events_before


def test_a_booking_answers_the_visit_with_its_slot_in_clinic_time(
    world: World, desk: APIClient
) -> None:
    response = desk.post(
        f"/api/visits/{world.visit_a.pk}/book/",
        {"start": "2026-11-27T08:00:00Z", "surgeon": world.procedure_a.surgeon_id},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["start"] == "2026-11-27T09:00:00+01:00"
    assert body["end"] == "2026-11-27T09:20:00+01:00"
    assert body["fhir_status"] == "booked"
    assert body["surgeon"] == world.procedure_a.surgeon_id


def test_a_proposed_slot_can_be_booked(world: World, desk: APIClient) -> None:
    found = desk.get(f"/api/visits/{world.visit_a.pk}/slots/?limit=3").json()
    slots = found["results"]
    assert len(slots) == 3
    assert set(slots[0]) == {"start", "end", "surgeon", "late"}
    assert not any(slot["late"] for slot in slots)
    assert found["detail"] is None

    response = desk.post(
        f"/api/visits/{world.visit_a.pk}/book/",
        {"start": slots[1]["start"], "surgeon": slots[1]["surgeon"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["start"] == slots[1]["start"]


def test_slots_start_from_the_given_day(world: World, desk: APIClient) -> None:
    found = desk.get(f"/api/visits/{world.visit_a.pk}/slots/?from=2026-12-01")
    slots = found.json()["results"]

    assert slots
    assert all(slot["start"] >= "2026-12-01" for slot in slots)


def test_the_history_lists_each_change_with_who_and_the_slot(
    world: World, desk: APIClient
) -> None:
    url = f"/api/visits/{world.visit_a.pk}"
    desk.post(
        f"{url}/book/",
        {"start": FREE_SLOT.isoformat(), "surgeon": world.procedure_a.surgeon_id},
        format="json",
    )
    desk.post(f"{url}/cancel/", {"reason": "Patient moved"}, format="json")

    events = desk.get(f"{url}/events/").json()

    assert [e["action"] for e in events] == ["generated", "booked", "cancelled"]
    assert events[1]["actor"] == "desk"
    assert events[1]["start_after"] == "2026-11-27T09:00:00+01:00"
    assert events[2]["reason"] == "Patient moved"
    assert events[0]["actor"] is None


def test_a_surgeon_completes_their_own_patients_visit(
    world: World, client_for: Any
) -> None:
    put_in_state(world.visit_a, S.CHECKED_IN)

    response = client_for("surgeon_a").post(f"/api/visits/{world.visit_a.pk}/complete/")

    assert response.status_code == 200
    assert Visit.objects.get(pk=world.visit_a.pk).status == S.COMPLETED
