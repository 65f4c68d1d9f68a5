"""The desk reads a visit's booking link on the patient page and the visit
page: live since when, made by whom, opened how often and when last, or why
it ended; and makes a new one there. The link's address is never shown
again: only its hash is kept.

"Now" is Wednesday 25 November 2026, 10:00 in Madrid (tests.api.conftest);
patient A's post-op control has its window 27 Nov - 5 Dec.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking_links import services as link_services
from booking_links.models import BookingLink, LinkUse
from clinic.models import Surgeon
from followup import services
from followup.models import Visit, VisitStatus
from tests.api.conftest import NOW, World, put_in_state, world  # noqa: F401

pytestmark = pytest.mark.django_db

URL = re.compile(r"http://testserver/p/[A-Za-z0-9_-]{43}/")
YESTERDAY = NOW - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture
def desk(front_desk: User) -> Client:
    client = Client()
    client.force_login(front_desk)
    return client


def _card(client: Client, world: World) -> str:  # noqa: F811
    """The patient page's "Booking links" card, as HTML."""
    page = client.get(f"/desk/patients/{world.patient_a.pk}/").content.decode()
    found = re.search(
        r'<section class="card" id="booking-links".*?</section>', page, re.S
    )
    assert found is not None, "no booking links card"
    return found.group(0)


def _line(card: str, visit: Visit) -> str:
    """The card's line of `visit`, its tags stripped."""
    head = r'<li class="link-state[^"]*">\s*<p class="link-state__head">'
    found = re.search(rf'{head}<a href="/desk/visits/{visit.pk}/.*?</li>', card, re.S)
    assert found is not None, f"no line for visit {visit.pk}"
    return _words(found.group(0))


def _words(markup: str) -> str:
    """`markup`'s text, its tags and runs of spaces as one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _section(client: Client, visit: Visit) -> str:
    """The visit page's "Booking link" section, its tags stripped."""
    page = client.get(f"/desk/visits/{visit.pk}/").content.decode()
    found = re.search(r'<section class="booking-link".*?</section>', page, re.S)
    assert found is not None, "no booking link section"
    return _words(found.group(0))


def _make_action(visit: Visit) -> str:
    return f'action="/desk/visits/{visit.pk}/booking-link/"'


def test_the_patient_page_shows_a_live_links_state_and_never_its_address(
    world: World,  # noqa: F811
    front_desk: User,
    desk: Client,
) -> None:
    issued = link_services.issue_link(
        visit_id=world.visit_a.pk, actor=front_desk, now=YESTERDAY
    )
    link = issued.link
    link_services.record_use(
        link, LinkUse.VIEWED, now=YESTERDAY + dt.timedelta(hours=2)
    )
    link_services.record_use(
        link, LinkUse.BOOKED, now=YESTERDAY + dt.timedelta(hours=2)
    )
    link_services.record_use(link, LinkUse.VIEWED, now=NOW - dt.timedelta(minutes=15))

    page = desk.get(f"/desk/patients/{world.patient_a.pk}/").content.decode()
    card = _card(desk, world)

    assert (
        "Post-operative control due 30 Nov 2026 Live since 24 Nov 2026, 10:00, "
        "made by desk; opened 2 times, last 25 Nov 2026, 09:45. Make a new link"
    ) in _line(card, world.visit_a)
    assert _make_action(world.visit_a) in card
    assert issued.token not in page
    assert link.token_hash not in page
    assert link.nonce not in page
    assert "/p/" not in page


def test_every_open_visit_has_a_line_and_a_button(
    world: World,  # noqa: F811
    desk: Client,
) -> None:
    card = _card(desk, world)

    open_visits = Visit.objects.filter(procedure=world.procedure_a)
    assert open_visits.count() > 1
    for visit in open_visits:
        assert "No link yet. Make a link" in _line(card, visit)
        assert _make_action(visit) in card


def test_a_link_a_message_made_reads_made_automatically(
    world: World,  # noqa: F811
    desk: Client,
) -> None:
    link_services.live_token(visit_id=world.visit_a.pk, now=YESTERDAY)

    line = _line(_card(desk, world), world.visit_a)

    assert "Live since 24 Nov 2026, 10:00, made automatically; not opened yet." in line


def test_the_cards_button_shows_the_address_once_then_only_the_state(
    world: World,  # noqa: F811
    desk: Client,
) -> None:
    card = _card(desk, world)
    assert _make_action(world.visit_a) in card

    made = desk.post(f"/desk/visits/{world.visit_a.pk}/booking-link/")

    shown = URL.search(made.content.decode())
    assert made.status_code == 200
    assert shown is not None
    page = desk.get(f"/desk/patients/{world.patient_a.pk}/").content.decode()
    assert shown.group(0) not in page
    assert URL.search(page) is None
    assert "Live since 25 Nov 2026, 10:00, made by desk; not opened yet." in (
        _line(_card(desk, world), world.visit_a)
    )


def test_the_visit_page_says_since_when_and_how_often_it_was_opened(
    world: World,  # noqa: F811
    front_desk: User,
    desk: Client,
) -> None:
    issued = link_services.issue_link(
        visit_id=world.visit_a.pk, actor=front_desk, now=YESTERDAY
    )
    link_services.record_use(issued.link, LinkUse.VIEWED, now=NOW)

    section = _section(desk, world.visit_a)

    assert (
        "Live since 24 Nov 2026, 10:00, made by desk; opened 1 time, "
        "last 25 Nov 2026, 10:00. Make a new booking link"
    ) in section
    assert issued.token not in section


def test_a_cancelled_visits_link_shows_as_ended_with_no_button(
    world: World,  # noqa: F811
    front_desk: User,
    desk: Client,
) -> None:
    link_services.issue_link(visit_id=world.visit_a.pk, actor=front_desk, now=YESTERDAY)
    services.cancel_visit(
        visit_id=world.visit_a.pk, reason="Not needed", actor=front_desk, now=NOW
    )

    section = _section(desk, world.visit_a)
    card = _card(desk, world)

    assert "Ended Wed 25 Nov 2026: the visit is cancelled." in section
    assert "Make a" not in section
    assert _make_action(world.visit_a) not in card
    assert f'href="/desk/visits/{world.visit_a.pk}/#booking-link"' not in card


def test_a_completed_visit_shows_no_link_action(
    world: World,  # noqa: F811
    front_desk: User,
    desk: Client,
) -> None:
    link_services.issue_link(visit_id=world.visit_a.pk, actor=front_desk, now=YESTERDAY)
    put_in_state(world.visit_a, VisitStatus.COMPLETED)

    page = desk.get(f"/desk/visits/{world.visit_a.pk}/").content.decode()

    assert "Ended: the visit is completed." in _section(desk, world.visit_a)
    assert _make_action(world.visit_a) not in page
    assert _make_action(world.visit_a) not in _card(desk, world)


def test_a_link_60_days_past_the_window_shows_as_ended_with_no_button(
    world: World,  # noqa: F811
    front_desk: User,
    desk: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link_services.issue_link(visit_id=world.visit_a.pk, actor=front_desk, now=NOW)
    # The window closes on Sat 5 Dec 2026: the link works 60 days more.
    later = dt.datetime(2027, 2, 4, 9, 0, tzinfo=NOW.tzinfo)
    monkeypatch.setattr("clinic.clock.now", lambda: later)

    section = _section(desk, world.visit_a)

    assert "Ended Thu 4 Feb 2027: 60 days past the visit's window." in section
    assert "Make a" not in section
    response = desk.post(f"/desk/visits/{world.visit_a.pk}/booking-link/")
    assert response.status_code == 409
    assert BookingLink.objects.count() == 1


def test_a_surgeon_sees_no_booking_links_on_the_patient_page(
    world: World,  # noqa: F811
    front_desk: User,
    surgeon_a: Surgeon,
) -> None:
    link_services.issue_link(visit_id=world.visit_a.pk, actor=front_desk, now=NOW)
    client = Client()
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    page = client.get(f"/desk/patients/{world.patient_a.pk}/")

    assert page.status_code == 200
    assert "Post-operative control" in page.content.decode()
    assert 'id="booking-links"' not in page.content.decode()
