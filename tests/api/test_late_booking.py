"""Overdue visits are booked late, as soon as possible, not refused.

"Now" is Wednesday 25 November 2026, 10:00 in Madrid (tests/api/conftest).
Visit A's window is moved to 2-18 November: it has closed, and the visit is
still to book. The front desk gets the earliest free slots from now, marked
late, and books one without the override permission; the visit and its
history record how many days after the window it falls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import ConsultationSession, Visit, VisitEvent, VisitStatus
from tests.api.conftest import MADRID, NOW, World, put_in_state

pytestmark = pytest.mark.django_db
CLOSED_WINDOW = (dt.date(2026, 11, 2), dt.date(2026, 11, 10), dt.date(2026, 11, 18))


def close_window(visit: Visit) -> Visit:
    start, due, end = CLOSED_WINDOW
    Visit.objects.filter(pk=visit.pk).update(
        window_start=start, due_date=due, window_end=end
    )
    visit.refresh_from_db()
    return visit


def slots(client: APIClient, visit: Visit, query: str = "") -> dict[str, object]:
    response = client.get(f"/api/visits/{visit.pk}/slots/{query}")
    assert response.status_code == 200, response.content[:300]
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("status", [VisitStatus.TO_BOOK, VisitStatus.NO_SHOW])
def test_an_overdue_visit_is_offered_the_earliest_late_slots_from_now(
    status: VisitStatus, world: World, desk: APIClient
) -> None:
    visit = close_window(
        put_in_state(world.visit_a, status, NOW - dt.timedelta(days=14))
    )

    found = slots(desk, visit, "?limit=5")

    results = found["results"]
    assert isinstance(results, list) and len(results) == 5
    assert all(slot["late"] for slot in results)
    # Wednesday 25 November: the clinic hours run to 14:00, "now" is 10:00.
    assert results[0]["start"] == "2026-11-25T10:00:00+01:00"
    assert found["detail"] is None


def test_late_slots_follow_from_and_end_thirty_days_on(
    world: World, desk: APIClient
) -> None:
    visit = close_window(world.visit_a)

    later = slots(desk, visit, "?from=2026-12-21&limit=100")["results"]

    assert isinstance(later, list) and later
    assert later[0]["start"] == "2026-12-21T09:00:00+01:00"
    assert later[-1]["start"] < "2027-01-20"
    assert all(slot["late"] for slot in later)


def test_the_front_desk_books_an_overdue_visit_late_without_the_override(
    world: World, desk: APIClient
) -> None:
    visit = close_window(world.visit_a)
    slot = slots(desk, visit)["results"][0]  # type: ignore[index]

    response = desk.post(
        f"/api/visits/{visit.pk}/book/",
        {"start": slot["start"], "surgeon": slot["surgeon"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "booked"
    assert response.json()["late_by_days"] == 7  # 25 Nov is 7 days after 18 Nov
    event = VisitEvent.objects.filter(visit=visit).last()
    assert event is not None and event.action == "booked"
    assert event.details["late"] == {"days_after_window": 7, "window_end": "2026-11-18"}
    history = desk.get(f"/api/visits/{visit.pk}/events/").json()
    assert history[-1]["details"]["late"]["days_after_window"] == 7


def test_a_late_booking_is_still_held_to_the_other_controls(
    world: World, desk: APIClient
) -> None:
    visit = close_window(world.visit_a)
    saturday = dt.datetime(2026, 11, 28, 9, tzinfo=MADRID)

    response = desk.post(
        f"/api/visits/{visit.pk}/book/",
        {"start": saturday.isoformat(), "surgeon": world.procedure_a.surgeon_id},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "outside_sessions"
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK


def test_a_window_not_yet_open_still_needs_the_override(
    world: World, desk: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    # The one-month control of a 20 November surgery opens on 13 December.
    visit = Visit.objects.get(
        procedure=world.procedure_a, rule__code="one_month_control"
    )
    early = dt.datetime(2026, 11, 30, 9, tzinfo=MADRID)
    body = {
        "start": early.isoformat(),
        "surgeon": world.procedure_a.surgeon_id,
        "override_reason": "Patient travels abroad in December",
    }

    refused = desk.post(f"/api/visits/{visit.pk}/book/", body, format="json")
    allowed = client_for("clinic_admin").post(
        f"/api/visits/{visit.pk}/book/", body, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "outside_window"
    assert "only a user allowed to override" in refused.json()["detail"]
    assert allowed.status_code == 200, allowed.json()
    assert allowed.json()["late_by_days"] is None


def test_the_override_can_be_granted_to_the_front_desk_group_in_the_admin(
    world: World, desk: APIClient, clinic_admin: object
) -> None:
    group = Group.objects.get(name="front_desk")
    permission = Permission.objects.get(codename="override_booking_window")
    admin = Client()
    admin.force_login(clinic_admin)  # type: ignore[arg-type]
    page = admin.get(f"/admin/auth/group/{group.pk}/change/")
    assert page.status_code == 200
    assert b"Can book a visit outside its window" in page.content

    group.permissions.add(permission)
    visit = Visit.objects.get(
        procedure=world.procedure_a, rule__code="one_month_control"
    )
    response = desk.post(
        f"/api/visits/{visit.pk}/book/",
        {
            "start": dt.datetime(2026, 11, 30, 9, tzinfo=MADRID).isoformat(),
            "surgeon": world.procedure_a.surgeon_id,
            "override_reason": "Patient travels abroad in December",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()


def test_no_slot_comes_with_the_reason(
    world: World, desk: APIClient, surgeon_a: Surgeon
) -> None:
    # Surgeon A's only session ended last month: no hours in the next 30 days.
    ConsultationSession.objects.create(
        surgeon=surgeon_a,
        weekday=0,
        start_time=dt.time(9),
        end_time=dt.time(12),
        valid_to=dt.date(2026, 10, 31),
    )
    visit = close_window(world.visit_a)

    found = slots(desk, visit)

    assert found["results"] == []
    assert found["detail"] == (
        f"{surgeon_a} has no consultation sessions in the next 30 days "
        "(2026-11-25 to 2026-12-24)."
    )


def test_slots_asked_after_the_window_say_when_it_closes(
    world: World, desk: APIClient
) -> None:
    found = slots(desk, world.visit_a, "?from=2026-12-06")

    assert found["results"] == []
    assert "closes on 2026-12-05" in str(found["detail"])
