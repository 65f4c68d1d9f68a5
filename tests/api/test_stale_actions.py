"""A visit command carrying the `sequence` its client last read: refused
with 409 `stale` once someone else changed the visit, saying who and how,
and changing nothing; two clients racing with one sequence get one winner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from followup import services
from followup.models import Visit, VisitEvent, VisitStatus
from tests.api.conftest import EARLIER_TODAY, FREE_SLOT, NOW, World, put_in_state
from tests.api.test_visit_states import ALLOWED, body_for
from tests.factories import UserFactory
from tests.racing import at_once

pytestmark = pytest.mark.django_db


def _other_clerk() -> User:
    return UserFactory.create(username="desk2", group="front_desk")


def test_a_reschedule_with_the_sequence_read_before_another_clerks_move_is_refused(
    world: World, desk: APIClient
) -> None:
    visit = world.visit_a
    surgeon = world.procedure_a.surgeon_id
    booked = services.book_visit(
        visit_id=visit.pk, start=FREE_SLOT, surgeon_id=surgeon, actor=None, now=NOW
    )
    seen = booked.sequence
    # Another clerk moves it an hour later, after this client read it.
    services.reschedule_visit(
        visit_id=visit.pk,
        start=FREE_SLOT + dt.timedelta(hours=1),
        surgeon_id=surgeon,
        actor=_other_clerk(),
        now=NOW,
    )

    response = desk.post(
        f"/api/visits/{visit.pk}/reschedule/",
        {
            "start": (FREE_SLOT + dt.timedelta(hours=2)).isoformat(),
            "surgeon": surgeon,
            "sequence": seen,
        },
        format="json",
    )

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "stale"
    assert "desk2 moved it to Fri 27 Nov 2026, 10:00" in body["detail"]
    visit.refresh_from_db()
    assert visit.start == FREE_SLOT + dt.timedelta(hours=1)
    assert visit.sequence == seen + 1


@pytest.mark.parametrize("stale", [True, False])
@pytest.mark.parametrize(("status", "command"), sorted(ALLOWED))
def test_every_command_goes_through_only_with_the_current_sequence(
    status: VisitStatus, command: str, stale: bool, world: World, desk: APIClient
) -> None:
    start = EARLIER_TODAY if command in ("check-in", "no-show") else FREE_SLOT
    visit = put_in_state(world.visit_a, status, start)
    events = VisitEvent.objects.filter(visit=visit).count()

    response = desk.post(
        f"/api/visits/{visit.pk}/{command}/",
        {**body_for(command, world), "sequence": visit.sequence + stale},
        format="json",
    )

    after = Visit.objects.get(pk=visit.pk)
    if not stale:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == ALLOWED[status, command]
        assert after.sequence == visit.sequence + 1
        return
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "stale"
    assert (after.status, after.start, after.sequence) == (
        visit.status,
        visit.start,
        visit.sequence,
    )
    assert VisitEvent.objects.filter(visit=visit).count() == events


@pytest.mark.parametrize("sequence", [-1, "two", 2**40, True])
def test_a_sequence_that_is_no_number_is_a_400(
    sequence: Any, world: World, desk: APIClient
) -> None:
    response = desk.post(
        f"/api/visits/{world.visit_a.pk}/cancel/",
        {"reason": "No longer needed", "sequence": sequence},
        format="json",
    )

    assert response.status_code == 400, response.json()
    world.visit_a.refresh_from_db()
    assert world.visit_a.status == VisitStatus.TO_BOOK


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_moving_one_booking_with_one_sequence_get_one_winner(
    world: World, front_desk: User
) -> None:
    visit = put_in_state(world.visit_a, VisitStatus.BOOKED, FREE_SLOT)
    seen = visit.sequence

    def clerk(hours: int) -> Callable[[], Any]:
        def move() -> Any:
            client = APIClient()
            client.force_authenticate(front_desk)
            response = client.post(
                f"/api/visits/{visit.pk}/reschedule/",
                {
                    "start": (FREE_SLOT + dt.timedelta(hours=hours)).isoformat(),
                    "surgeon": world.procedure_a.surgeon_id,
                    "sequence": seen,
                },
                format="json",
            )
            return response.json().get("code") or response.status_code

        return move

    codes = at_once([clerk(1), clerk(2)])

    assert sorted(map(str, codes)) == ["200", "stale"]
    visit.refresh_from_db()
    assert visit.sequence == seen + 1
    assert VisitEvent.objects.filter(visit=visit, action="rescheduled").count() == 1
