"""The visit page's "Booking link" button: the desk makes a link and reads
its URL out; it is shown once, never cached, and a surgeon cannot make one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking_links import services as link_services
from booking_links.models import BookingLink
from clinic.models import Surgeon
from followup import services
from tests.api.conftest import FREE_SLOT, NOW, World
from tests.booking_links.conftest import patient_client

pytestmark = pytest.mark.django_db

URL = re.compile(r"http://testserver/p/[A-Za-z0-9_-]{43}/")


def _desk(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_desk_makes_a_link_from_the_visit_page_and_sees_it_once(
    world: World, front_desk: User
) -> None:
    client = _desk(front_desk)
    page = client.get(f"/desk/visits/{world.visit_a.pk}/").content.decode()
    assert "Booking link" in page
    assert URL.search(page) is None

    response = client.post(f"/desk/visits/{world.visit_a.pk}/booking-link/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = URL.search(response.content.decode())
    assert shown is not None
    assert patient_client().get(shown.group(0)).status_code == 200
    again = client.get(f"/desk/visits/{world.visit_a.pk}/").content.decode()
    assert URL.search(again) is None


def test_a_second_link_from_the_page_ends_the_first(
    world: World, front_desk: User
) -> None:
    client = _desk(front_desk)
    first = URL.search(
        client.post(f"/desk/visits/{world.visit_a.pk}/booking-link/").content.decode()
    )
    client.post(f"/desk/visits/{world.visit_a.pk}/booking-link/")

    assert first is not None
    assert patient_client().get(first.group(0)).status_code == 404


def test_a_surgeon_cannot_make_a_link(world: World, surgeon_a: Surgeon) -> None:
    assert surgeon_a.user is not None
    response = _desk(surgeon_a.user).post(
        f"/desk/visits/{world.visit_a.pk}/booking-link/"
    )

    assert response.status_code == 403
    assert not BookingLink.objects.exists()


def test_a_cancelled_visit_shows_no_button_and_refuses_in_words(
    world: World, front_desk: User
) -> None:
    services.cancel_visit(
        visit_id=world.visit_a.pk, reason="Not needed", actor=None, now=NOW
    )
    client = _desk(front_desk)
    assert (
        f'action="/desk/visits/{world.visit_a.pk}/booking-link/"'
        not in client.get(f"/desk/visits/{world.visit_a.pk}/").content.decode()
    )

    response = client.post(f"/desk/visits/{world.visit_a.pk}/booking-link/")

    assert response.status_code == 409
    assert "cannot be given a booking link" in response.content.decode()
    assert not BookingLink.objects.exists()


def test_opening_the_buttons_address_shows_the_visit(
    world: World, front_desk: User
) -> None:
    response = _desk(front_desk).get(f"/desk/visits/{world.visit_a.pk}/booking-link/")

    assert response.status_code == 302
    assert response["Location"] == f"/desk/visits/{world.visit_a.pk}/"


def test_the_visit_pages_history_names_the_patient_as_author(
    world: World, front_desk: User
) -> None:
    issued = link_services.issue_link(visit_id=world.visit_a.pk, actor=None, now=NOW)
    link = BookingLink.objects.get(pk=issued.link.pk)
    link_services.book_through_link(link=link, start=FREE_SLOT, now=NOW, sequence=None)

    page = _desk(front_desk).get(f"/desk/visits/{world.visit_a.pk}/").content.decode()

    assert "<strong>Booked</strong>" in page
    assert "patient (link)" in page
