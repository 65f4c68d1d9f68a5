"""Offers of freed slots in Chromium, checked with axe-core: the patient
claims the offered slot from the booking page on a phone and a desktop (and
without JavaScript), and the front desk reads the offers' states on the
patient page and the worklist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from booking_links import services as links
from followup import services
from followup.models import Visit, VisitStatus
from offers.models import Offer, OfferStatus
from tests.offers.conftest import (  # noqa: F401
    NOW,
    SLOT,
    Clinic,
    _clinic,
    _fresh_throttle,
    clinic,
    pinned,
    sol,
    waiting,
)
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def offered(clinic: Clinic, front_desk: User) -> tuple[Visit, str]:  # noqa: F811
    visit = waiting(clinic.surgeon, name="Ada")
    waiting(clinic.surgeon, name="Bea")
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    token = links.issue_link(visit_id=visit.pk, actor=None, now=NOW).token
    offer = Offer.objects.get(visit=visit)
    return visit, f"/p/{token}/?offer={offer.pk}"


@pytest.mark.parametrize("width", [375, 1280])
def test_the_patient_claims_the_offered_slot_and_the_page_passes_axe(
    new_page: Callable[..., Any], offered: tuple[Visit, str], width: int
) -> None:
    visit, url = offered
    page = new_page(width=width)
    page.goto(url)
    section = page.get_by_role("region", name="A time has come free")
    expect(section).to_contain_text("Fri 27 Nov 2026, 09:00")
    assert_no_serious_axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    section.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("status").filter(has_text="Booked")).to_be_visible()
    visit.refresh_from_db()
    assert (visit.status, visit.start) == (VisitStatus.BOOKED, SLOT)
    assert Offer.objects.get(visit=visit).status == OfferStatus.CLAIMED


def test_without_javascript_the_offer_is_claimed_through_its_form(
    browser: Any, live_server: Any, offered: tuple[Visit, str]
) -> None:
    visit, url = offered
    context = browser.new_context(
        java_script_enabled=False,
        base_url=live_server.url,
        viewport={"width": 375, "height": 800},
    )
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("button", name="Book this time").click()
        expect(page.locator(".booking__slot").first).to_contain_text("09:00")
    finally:
        context.close()
    visit.refresh_from_db()
    assert visit.start == SLOT


@pytest.mark.parametrize("width", WIDTHS)
def test_the_desk_reads_the_offers_on_the_patient_page_and_worklist(
    new_page: Callable[..., Any],
    offered: tuple[Visit, str],
    front_desk: User,
    width: int,
) -> None:
    visit, _ = offered
    page = new_page(width=width, user=front_desk)

    page.goto(f"/desk/patients/{visit.patient_id}/")
    offers = page.get_by_role("region", name="Offers of freed slots")
    expect(offers).to_contain_text("Offer pending")
    expect(offers).to_contain_text("open until 12:00")
    assert_no_serious_axe_violations(page)

    page.goto("/desk/")
    row = page.locator(f"#visit-{visit.pk}")
    expect(row.locator(".badge--offer")).to_contain_text("Offer pending")
    assert_no_serious_axe_violations(page)
