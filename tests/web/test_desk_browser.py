"""The worklist in Chromium: a clerk books, checks in, meets a refusal, books
an overdue visit late; axe-core on the list and on Today at both widths.

The clinic's clock is pinned (`tests.web.desk_data`): Monday 30 November
2026, 08:00 in Madrid, so the first proposed slot is 09:00 today.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from followup import services
from followup.models import VisitStatus
from tests.web.conftest import PASSWORD, WIDTHS, assert_no_serious_axe_violations
from tests.web.desk_data import NOW, DeskCast, book_every_visit_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/desk/")


def row_of(page: Any, pk: int) -> Any:
    return page.locator(f"#visit-{pk}")


def slots_of(page: Any, desk_cast: DeskCast) -> Any:
    """María's row on the "Window open" tab, its Book panel open."""
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    page.goto("/desk/?tab=open")
    row = row_of(page, visit.pk)
    row.get_by_role("link", name=re.compile("^Book")).click()
    return row


def test_a_clerk_finds_a_patient_books_the_first_slot_and_checks_them_in(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    page = new_page()
    log_in(page, "desk")

    page.get_by_label("Patient name, record number, phone or birth date").fill(
        "MRN00012"
    )
    page.get_by_role("button", name="Find").click()
    expect(page.locator("tbody.visit")).to_have_count(2)
    assert "q=MRN00012" in page.url
    row = row_of(page, visit.pk)
    row.get_by_role("link", name=re.compile("^Book")).click()
    first = row.get_by_role("button", name=re.compile("^Book Mon 30 Nov"))
    expect(first.first).to_be_focused()
    first.first.click()

    expect(page.locator("#announcements")).to_contain_text("Saved.")
    expect(row).to_contain_text("Saved. Booked for Mon 30 Nov 2026, 09:00")
    expect(page.locator("#desk-tabs")).to_contain_text("Today 1")
    assert "q=MRN00012" in page.url  # the filters survived the action

    page.get_by_role("link", name=re.compile("^Today")).click()
    expect(page.locator("#worklist-heading")).to_have_text("Today")
    expect(row.locator(".visit__time")).to_have_text("09:00")
    row.get_by_role("button", name=re.compile("^Check in")).click()

    expect(row).to_contain_text("Saved. Checked in.")
    expect(row.locator(".status")).to_have_text("Checked in")
    expect(page.locator("#announcements")).to_contain_text("Checked in.")
    # She waits to be completed now, on the list above, without a reload.
    waiting = page.locator("#waiting")
    expect(waiting.locator("#waiting-heading")).to_have_text(
        re.compile(r"Waiting to be completed\s+1")
    )
    expect(waiting.locator(f"#waiting-{visit.pk}")).to_contain_text(
        "García López, María"
    )
    expect(waiting.get_by_role("button", name=re.compile("^Complete"))).to_be_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CHECKED_IN


def test_a_refused_booking_shows_its_message_and_the_row_is_unchanged(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    page = new_page(user=cast["front_desk"])
    row = slots_of(page, desk_cast)
    slot = row.get_by_role("button", name=re.compile("^Book Mon 30 Nov")).first
    expect(slot).to_be_visible()
    # Another clerk takes the same slot for another patient first.
    services.book_visit(
        visit_id=desk_cast.visit(desk_cast.pilar, "postop_control").pk,
        start=dt.datetime.fromisoformat(slot.get_attribute("value") or ""),
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )

    slot.click()

    alert = row.get_by_role("alert")
    expect(alert).to_contain_text("That time, Mon 30 Nov 2026, 09:00, is taken")
    expect(alert).not_to_contain_text(re.compile(r"visit \d"))
    expect(row.locator(".status")).to_have_text("To book")
    expect(page.locator("#announcements")).not_to_contain_text("Saved")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.TO_BOOK


def test_an_overdue_visit_is_booked_into_a_late_slot(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.pilar, "postop_control")
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/")
    page.get_by_role("link", name=re.compile("^Overdue")).click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Overdue")
    # The tab chosen in place is the one a search keeps.
    page.get_by_label("Patient name, record number, phone or birth date").fill("Sanz")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/desk/?tab=overdue&q=Sanz")
    expect(page.locator("tbody.visit")).to_have_count(2)
    row = row_of(page, visit.pk)
    expect(row.locator(".badge--overdue")).to_be_visible()

    row.get_by_role("link", name=re.compile("^Book")).click()
    first = row.get_by_role("button", name=re.compile("^Book Mon 30 Nov 09:00 late"))
    expect(first).to_be_visible()
    first.click()

    expect(row).to_contain_text("days late")
    expect(row.locator(".badge--late")).to_contain_text("Late by 45 days")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.BOOKED
    assert visit.late_by_days == 45


@pytest.fixture
def desk_without_javascript(
    browser: Any, live_server: Any, cast: dict[str, User]
) -> Iterator[Any]:
    """A page with JavaScript off, signed in as the front desk."""
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        log_in(page, "desk")
        yield page
    finally:
        context.close()


def test_without_javascript_a_booking_returns_to_the_same_list(
    desk_without_javascript: Any, desk_cast: DeskCast
) -> None:
    page = desk_without_javascript
    visit = desk_cast.visit(desk_cast.jorge, "postop_control")
    page.goto("/desk/?tab=closing")
    row_of(page, visit.pk).get_by_role("link", name=re.compile("^Book")).click()
    assert f"open={visit.pk}" in page.url
    page.get_by_role("button", name=re.compile("^Book Mon 30 Nov")).first.click()

    assert page.url.endswith(f"/desk/?tab=closing#visit-{visit.pk}")
    expect(page.locator("#announcements")).to_contain_text("Saved.")


def test_later_slots_and_a_chosen_day_reach_the_end_of_the_window(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    page = new_page(user=cast["front_desk"])
    row = slots_of(page, desk_cast)
    slots = row.locator(".slot-list button")
    expect(slots).to_have_count(12)
    last_shown = slots.last.get_attribute("value")

    row.get_by_role("link", name="Later slots").click()

    expect(row.get_by_role("link", name="Soonest slots")).to_be_visible()
    expect(slots.first).not_to_have_attribute("value", last_shown or "")
    assert (slots.first.get_attribute("value") or "") > (last_shown or "")
    assert "open=" not in page.url  # htmx swapped the row in place
    assert_no_serious_axe_violations(page)

    # The window's last weekday: Friday 4 December (Saturday has no session).
    row.get_by_label("on the day").fill("2026-12-04")
    row.get_by_role("button", name="Show slots").click()

    expect(row.locator(".slots__which")).to_have_text("Free slots on Fri 4 Dec 2026.")
    expect(slots.first).to_have_attribute("value", "2026-12-04T09:00:00+01:00")


def test_without_javascript_later_slots_is_a_link_to_the_next_slots(
    desk_without_javascript: Any, desk_cast: DeskCast
) -> None:
    page = desk_without_javascript
    row = slots_of(page, desk_cast)
    slots = row.locator(".slot-list button")
    last_shown = slots.last.get_attribute("value") or ""

    row.get_by_role("link", name="Later slots").click()

    assert "slots_after=" in page.url
    assert (slots.first.get_attribute("value") or "") > last_shown
    slots.first.click()
    expect(page.locator("#announcements")).to_contain_text("Saved.")


def test_a_clerk_finds_a_patient_with_nothing_to_book_by_an_unaccented_name(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    book_every_visit_of(desk_cast.maria)
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/")

    page.get_by_label("Patient name, record number, phone or birth date").fill(
        "maria garcia"
    )
    page.get_by_role("button", name="Find").click()

    found = page.get_by_role("region", name=re.compile("^Patients matching"))
    expect(found.get_by_role("link", name="García López, María")).to_be_visible()
    assert_no_serious_axe_violations(page)
    found.get_by_role("link", name="García López, María").click()
    page.wait_for_url(f"**/desk/patients/{desk_cast.maria.pk}/")
    # Her page alone, not her page inside the worklist.
    expect(page.locator("h1")).to_have_text("María García López")


@pytest.mark.parametrize(
    ("place", "name"),
    [("/desk/?tab=all", "Ruiz, Jorge"), ("/desk/appointments/", "García López, María")],
)
def test_a_patients_name_on_a_row_opens_their_page_alone(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    place: str,
    name: str,
) -> None:
    # The rows are in a boosted list, whose links load into it: not this one.
    # María is booked today (the appointments), Jorge still to book.
    book_every_visit_of(desk_cast.maria)
    page = new_page(user=cast["front_desk"])
    page.goto(place)

    page.locator("tbody.visit a.visit__name", has_text=name).first.click()

    page.wait_for_url(re.compile(r"/desk/patients/\d+/$"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("header")).to_have_count(1)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_worklist_and_today_have_no_serious_accessibility_violations(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    width: int,
) -> None:
    services.book_visit(
        visit_id=desk_cast.visit(desk_cast.maria, "postop_control").pk,
        start=dt.datetime.fromisoformat("2026-11-30T09:00:00+01:00"),
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )
    page = new_page(width=width, user=cast["front_desk"])

    page.goto("/desk/")
    assert_no_serious_axe_violations(page)
    overdue = desk_cast.visit(desk_cast.pilar, "postop_control")
    row_of(page, overdue.pk).get_by_role("link", name=re.compile("^Book")).click()
    expect(row_of(page, overdue.pk).locator(".slot-list")).to_be_visible()
    assert_no_serious_axe_violations(page)

    page.goto("/desk/?tab=today")
    expect(page.locator("tbody.visit")).to_have_count(1)
    assert_no_serious_axe_violations(page)
    page.get_by_role("link", name=re.compile("^Unbook or cancel")).click()
    expect(page.get_by_role("button", name="Unbook")).to_be_focused()
    assert_no_serious_axe_violations(page)
