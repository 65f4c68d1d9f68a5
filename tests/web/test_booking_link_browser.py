"""The patient's booking page in Chromium: on a phone (375 px) and a desktop
(1280 px), checked with axe-core, and booked without JavaScript; its "too
many tries" page checked too."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import expect

from followup.models import VisitEvent, VisitStatus
from tests.api.conftest import FREE_SLOT, NOW, World, world  # noqa: F401
from tests.booking_links.conftest import Linked, make_link
from tests.web.conftest import assert_no_serious_axe_violations
from web.patient_link import views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)
    views.throttle.reset()
    yield
    views.throttle.reset()


@pytest.fixture
def linked(world: World, front_desk: User) -> Linked:  # noqa: F811
    return make_link(world.visit_a, front_desk)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_patient_books_and_moves_the_time_and_the_page_passes_axe(
    new_page: Callable[..., Any], linked: Linked, width: int
) -> None:
    page = new_page(width=width)
    page.goto(linked.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Ana")
    assert_no_serious_axe_violations(page)
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The clinic's number on one line, never broken in two to be misdialled.
    phone = page.get_by_role("link", name=settings.CLINIC_PHONE)
    assert phone.evaluate("a => a.getClientRects().length") == 1

    page.get_by_role("button", name=re.compile(r"^09:00\W+Fri 27 Nov")).click()

    expect(page.get_by_role("status").filter(has_text="Booked")).to_be_visible()
    expect(page.locator(".booking__slot")).to_contain_text("Fri 27 Nov 2026, 09:00")
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="I can't come").click()
    expect(page.get_by_text("Your time is given up")).to_be_visible()
    linked.visit.refresh_from_db()
    assert linked.visit.status == VisitStatus.TO_BOOK


def test_without_javascript_the_patient_books_through_the_form(
    browser: Any, live_server: Any, linked: Linked
) -> None:
    context = browser.new_context(
        java_script_enabled=False,
        base_url=live_server.url,
        viewport={"width": 375, "height": 800},
    )
    try:
        page = context.new_page()
        page.goto(linked.url)
        page.get_by_role("button", name=re.compile(r"^09:20\W+Fri 27 Nov")).click()

        expect(page.locator(".booking__slot")).to_contain_text("09:20")
    finally:
        context.close()
    linked.visit.refresh_from_db()
    assert linked.visit.start == FREE_SLOT.replace(minute=20)
    event = VisitEvent.objects.filter(visit=linked.visit).latest("id")
    assert event.actor_name == "patient (link)"


@pytest.mark.parametrize("width", [375, 1280])
def test_the_too_many_tries_page_passes_axe(
    new_page: Callable[..., Any], linked: Linked, width: int, settings: Any
) -> None:
    settings.BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR = 0
    settings.CLINIC_PHONE = "+34 910 000 000"
    page = new_page(width=width)

    response = page.goto(linked.url)

    assert response.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many tries")
    expect(page.get_by_role("link", name="+34 910 000 000")).to_be_visible()
    assert_no_serious_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [375, 1280])
def test_an_ended_links_page_gives_the_clinics_number_and_passes_axe(
    new_page: Callable[..., Any], linked: Linked, width: int, front_desk: User
) -> None:
    make_link(linked.visit, front_desk)  # a newer link ends this one
    page = new_page(width=width)

    response = page.goto(linked.url)

    assert response.status == 404
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("This link does not work")
    phone = page.get_by_role("link", name=settings.CLINIC_PHONE)
    expect(phone).to_have_attribute("href", "tel:+34910000000")
    assert_no_serious_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
