"""A visit checked in on an earlier day is *Waiting to be completed* on the
surgeon's page (their own) and on the desk (all), with *Complete* (issue 19,
D6).

The world is tests.web.surgeon_world's: Ana Abad was checked in on Wednesday
25 November for her 09:00 visit with surgeon A. "Now" is two days later, so
her visit is on no other list.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from followup import services
from followup.models import Visit, VisitStatus
from tests.web.surgeon_world import NOW, SurgeonWorld, build, madrid

pytestmark = pytest.mark.django_db
LATER = NOW + dt.timedelta(days=2)
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(
    front_desk: User,
    surgeon_a: Surgeon,
    surgeon_b: Surgeon,
    monkeypatch: pytest.MonkeyPatch,
) -> SurgeonWorld:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)
    built = build(front_desk, surgeon_a, surgeon_b)
    monkeypatch.setattr("clinic.clock.now", lambda: LATER)
    return built


def client_of(user: User | None) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def waiting_section(html: str) -> str:
    html = re.sub(r"\s+", " ", html)
    start = html.index('id="waiting"')
    return html[start : html.index("</section>", start)]


def test_the_surgeon_sees_their_visit_checked_in_two_days_ago_and_completes_it(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    client = client_of(surgeon_a.user)

    waiting = waiting_section(client.get("/surgeon/").content.decode())

    assert "H-1001" in waiting and "Wed 25 Nov 2026" in waiting
    assert f'action="/surgeon/visits/{world.checked_in.pk}/complete/' in waiting

    response = client.post(f"/surgeon/visits/{world.checked_in.pk}/complete/")

    assert response.status_code == 302
    assert Visit.objects.get(pk=world.checked_in.pk).status == VisitStatus.COMPLETED
    after = waiting_section(client.get(response["Location"]).content.decode())
    assert "H-1001" not in after


def test_another_surgeon_does_not_see_it(
    world: SurgeonWorld, surgeon_b: Surgeon
) -> None:
    waiting = waiting_section(
        client_of(surgeon_b.user).get("/surgeon/").content.decode()
    )

    assert "H-1001" not in waiting


def test_the_desk_sees_every_waiting_visit(
    world: SurgeonWorld, front_desk: User, surgeon_b: Surgeon
) -> None:
    other = world.other
    services.book_visit(
        visit_id=other.pk,
        start=madrid(11, 27, 9),
        surgeon_id=surgeon_b.pk,
        actor=front_desk,
        now=madrid(11, 26, 9),
    )
    services.check_in_visit(visit_id=other.pk, actor=front_desk, now=LATER)

    waiting = waiting_section(client_of(front_desk).get("/desk/").content.decode())

    assert "Abad" in waiting and "Bravo" in waiting
    assert waiting.index("Abad") < waiting.index("Bravo")  # longest waiting first
    assert f'action="/desk/visits/{world.checked_in.pk}/complete/' in waiting


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_the_desk_completes_it(
    world: SurgeonWorld, front_desk: User, headers: dict[str, Any]
) -> None:
    client = client_of(front_desk)

    response = client.post(
        f"/desk/visits/{world.checked_in.pk}/complete/",
        {"back": "tab=today"},
        **headers,
    )

    assert Visit.objects.get(pk=world.checked_in.pk).status == VisitStatus.COMPLETED
    if headers:
        assert response.status_code == 200
        assert response["HX-Redirect"] == "/desk/?tab=today#waiting"
    else:
        assert response.status_code == 302
        assert response["Location"] == "/desk/?tab=today#waiting"
        page = client.get(response["Location"]).content.decode()
        assert "Saved. Abad, Ana · H-1001: Completed." in page
        assert "Waiting to be completed" not in page  # nobody left waiting


def test_the_desk_completing_a_visit_not_checked_in_is_refused(
    world: SurgeonWorld, front_desk: User
) -> None:
    response = client_of(front_desk).post(
        f"/desk/visits/{world.friday.pk}/complete/", {"back": ""}
    )

    assert response.status_code == 409
    assert "it cannot be completed" in response.content.decode()
    assert Visit.objects.get(pk=world.friday.pk).status == VisitStatus.BOOKED


@pytest.mark.parametrize("seen", ["x", "99999999999999999999", "1.0"])
def test_the_desk_completing_it_from_a_row_whose_version_is_unreadable_is_refused(
    world: SurgeonWorld, front_desk: User, seen: str
) -> None:
    """The row's `sequence` is how a stale Complete is told from a fresh
    one: one the page cannot read is refused, as on the surgeon's page, not
    taken as "no version" and applied."""
    response = client_of(front_desk).post(
        f"/desk/visits/{world.checked_in.pk}/complete/",
        {"back": "", "sequence": seen},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "This page&#x27;s copy of the visit is unreadable; reload the page." in page
    visit = Visit.objects.get(pk=world.checked_in.pk)
    assert visit.status == VisitStatus.CHECKED_IN


def test_a_complete_someone_else_did_first_names_the_patient_and_points_nowhere(
    world: SurgeonWorld, front_desk: User, surgeon_a: Surgeon
) -> None:
    """The visit has left every list once completed: the refusal, said
    above them, names whose visit it was and no "here it is"."""
    seen = Visit.objects.get(pk=world.checked_in.pk).sequence
    services.complete_visit(
        visit_id=world.checked_in.pk, actor=front_desk, now=LATER, sequence=seen
    )

    for client, url, label in (
        (
            client_of(surgeon_a.user),
            f"/surgeon/visits/{world.checked_in.pk}/complete/",
            "AA H-1001",
        ),
        (
            client_of(front_desk),
            f"/desk/visits/{world.checked_in.pk}/complete/",
            "Abad, Ana · H-1001",
        ),
    ):
        response = client.post(url, {"back": "", "sequence": seen})

        assert response.status_code == 409
        page = re.sub(r"\s+", " ", response.content.decode()).replace("&#x27;", "'")
        assert (
            f"{label}: This visit changed after it was shown: "
            f"{front_desk.username} completed it. "
            "Nothing was done."
        ) in page
        assert "here it is" not in page
