"""Outcomes that end care wait for a confirmation that says what goes
(issue 19, D5): a slip on *Deceased* changes nothing.

Jorge has two open visits (post-op control, one-month control). On the
desk's row and on his page, a first POST of *Deceased*, *Moved away* or
*Declined* without `confirm=yes` comes back with the form as typed and the
list of what would be cancelled; `confirm=yes` records it. The API is
unchanged: it records the outcome at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import ContactAttempt, Visit, VisitStatus
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def open_statuses(cast: DeskCast) -> list[str]:
    return list(
        Visit.objects.filter(patient=cast.jorge)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def desk_url(visit: Visit) -> str:
    return f"/desk/visits/{visit.pk}/contact/"


def page_url(visit: Visit) -> str:
    return f"/desk/patients/{visit.patient_id}/visits/{visit.pk}/contact/"


@pytest.mark.parametrize("where", [desk_url, page_url])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_deceased_without_confirmation_changes_nothing_and_lists_what_would_go(
    desk: Client, cast: DeskCast, where: Any, headers: dict[str, Any]
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")
    before = open_statuses(cast)

    response = desk.post(
        where(visit),
        {
            "channel": "phone",
            "outcome": "deceased",
            "note": "Daughter called",
            "back": "tab=call",
        },
        **headers,
    )

    assert response.status_code == 200
    assert not ContactAttempt.objects.exists()
    assert open_statuses(cast) == before == [VisitStatus.TO_BOOK] * 2
    html = text_of(response)
    confirm = html[html.index('class="confirm-ending"') :]
    confirm = confirm[: confirm.index("</div>")]
    assert "Deceased" in confirm
    assert "Post-operative control" in confirm and "One-month control" in confirm
    assert 'name="confirm" value="yes"' in confirm
    assert "Daughter called</textarea>" in html
    assert '<option value="deceased" selected>' in html


@pytest.mark.parametrize("where", [desk_url, page_url])
def test_confirmed_deceased_cancels_every_open_visit(
    desk: Client, cast: DeskCast, where: Any
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")

    response = desk.post(
        where(visit),
        {"channel": "phone", "outcome": "deceased", "confirm": "yes", "back": ""},
    )

    assert response.status_code == 302
    assert ContactAttempt.objects.get().outcome == "deceased"
    assert open_statuses(cast) == [VisitStatus.CANCELLED] * 2


def test_declined_asks_too_and_names_only_its_own_visit(
    desk: Client, cast: DeskCast
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")

    response = desk.post(
        desk_url(visit), {"channel": "phone", "outcome": "declined", "back": ""}
    )

    html = text_of(response)
    confirm = html[html.index('class="confirm-ending"') :]
    confirm = confirm[: confirm.index("</div>")]
    assert "Post-operative control" in confirm
    assert "One-month control" not in confirm
    assert not ContactAttempt.objects.exists()


def test_no_answer_needs_no_confirmation(desk: Client, cast: DeskCast) -> None:
    visit = cast.visit(cast.jorge, "postop_control")

    response = desk.post(
        desk_url(visit), {"channel": "phone", "outcome": "no_answer", "back": ""}
    )

    assert response.status_code == 302
    assert ContactAttempt.objects.get().outcome == "no_answer"


def test_the_api_records_deceased_at_once(
    client: Client, front_desk: User, cast: DeskCast
) -> None:
    client.force_login(front_desk)
    visit = cast.visit(cast.jorge, "postop_control")

    response = client.post(
        f"/api/visits/{visit.pk}/contact-attempts/",
        {"channel": "phone", "outcome": "deceased"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert open_statuses(cast) == [VisitStatus.CANCELLED] * 2


@pytest.mark.parametrize("where", [desk_url, page_url])
def test_declined_from_a_row_older_than_the_visit_is_refused_and_cancels_nothing(
    desk: Client, cast: DeskCast, front_desk: User, where: Callable[[Visit], str]
) -> None:
    visit = cast.visit(cast.jorge, "postop_control")
    seen = visit.sequence  # the row the first clerk has open
    # Meanwhile Jorge phones the second clerk, who books him.
    slot = services.free_slots(visit=visit, now=NOW, limit=1)[0]
    services.book_visit(
        visit_id=visit.pk,
        start=slot.start,
        surgeon_id=slot.surgeon_id,
        actor=front_desk,
        now=NOW,
    )

    response = desk.post(
        where(visit),
        {
            "channel": "phone",
            "outcome": "declined",
            "confirm": "yes",
            "sequence": str(seen),
            "back": "",
        },
    )

    assert response.status_code == 409
    assert "This visit changed after it was shown" in text_of(response)
    assert not ContactAttempt.objects.exists()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
