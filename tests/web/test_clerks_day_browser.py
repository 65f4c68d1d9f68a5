"""A clerk's whole day at the pages, in Chromium, with JavaScript and again
without it: register a patient, book, the patient phones and is found by an
unaccented name and moved from the appointments, check-in, the surgeon
completes, a slip on *Deceased* is stopped, a cancel made by mistake is
reopened by the admin, and a second clerk's stale booking is refused.

With JavaScript, every page of the day is also checked with axe-core at
1280 and 768 px. The clinic's clock is pinned to Monday 30 November 2026,
08:00 in Madrid (`tests.web.desk_data`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import expect

from clinic.models import Patient
from followup.models import Visit, VisitStatus
from tests.web.conftest import AXE, WIDTHS, assert_no_serious_axe_violations
from tests.web.desk_data import pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Opener = Callable[[User], Any]


@pytest.fixture
def day_pages(
    browser: Any, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[bool], Opener]]:
    """`day_pages(javascript)(user)`: a page of that person's own browser,
    logged in, with or without JavaScript."""
    contexts: list[Any] = []

    def with_javascript(javascript: bool) -> Opener:
        def open_as(user: User) -> Any:
            context = browser.new_context(
                java_script_enabled=javascript,
                viewport={"width": WIDTHS[0], "height": 900},
                base_url=live_server.url,
            )
            contexts.append(context)
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
            if javascript:
                context.add_init_script(path=str(AXE))
            page = context.new_page()
            page.set_default_timeout(10_000)
            return page

        return open_as

    yield with_javascript
    for context in contexts:
        context.close()


class Day:
    """What the day's people see; axe-core on each page when JavaScript runs."""

    def __init__(self, javascript: bool) -> None:
        self.javascript = javascript
        self.pages_checked: set[str] = set()

    def seen(self, page: Any) -> None:
        if not self.javascript:
            return
        for width in reversed(WIDTHS):
            page.set_viewport_size({"width": width, "height": 900})
            assert_no_serious_axe_violations(page)
        self.pages_checked.add(urlsplit(page.url).path)


def register(page: Any, day: Day) -> Patient:
    page.goto("/desk/")
    day.seen(page)
    page.get_by_role("link", name="New patient").click()
    page.wait_for_url("**/desk/patients/new/")
    page.get_by_label("Record number").fill("H-700001")
    page.get_by_label("Given name").fill("Íñigo")
    page.get_by_label("Family name").fill("Muñoz Peña")
    page.get_by_label("Birth date").fill("1970-05-06")
    page.get_by_label("Surgeon").select_option(label="Dr. Ana Alvarez")
    page.get_by_label("Endoscopic spine surgery").check()
    page.get_by_label("Surgery date").fill("2026-11-20")
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.locator(".preview")).to_contain_text("Post-operative control")
    day.seen(page)
    page.get_by_role("button", name="Save patient and procedure").click()
    patient = Patient.objects.get(record_number="H-700001")
    page.wait_for_url(f"**/desk/patients/{patient.pk}/")
    day.seen(page)
    return patient


def status_becomes(visit: Visit, status: str) -> None:
    """The database has the change (an htmx swap lands a moment later)."""
    for _ in range(100):
        visit.refresh_from_db()
        if visit.status == status:
            return
        time.sleep(0.1)
    assert visit.status == status


def row_of(page: Any, visit: Visit) -> Any:
    return page.locator(f"#visit-{visit.pk}")


def book_first_slot(page: Any, visit: Visit, day: Day) -> None:
    page.goto("/desk/?tab=all&q=inigo+munoz")
    row = row_of(page, visit)
    row.get_by_role("link", name=re.compile("^Book")).click()
    expect(row.locator(".slot-list")).to_be_visible()
    day.seen(page)
    row.get_by_role("button", name=re.compile("^Book Mon 30 Nov 09:00")).click()
    expect(page.locator("body")).to_contain_text("Booked")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.BOOKED


def reschedule_from_the_appointments(page: Any, visit: Visit, day: Day) -> None:
    # The patient phones: the clerk types the name as it sounds.
    page.goto("/desk/")
    page.get_by_role("link", name="Appointments").click()
    page.wait_for_url("**/desk/appointments/")
    page.get_by_label("Patient name, record number, phone or birth date").fill(
        "inigo munoz"
    )
    page.get_by_role("button", name="Show").click()
    row = row_of(page, visit)
    expect(row).to_contain_text("Mon 30 Nov, 09:00")
    day.seen(page)
    row.get_by_role("link", name=re.compile("^Reschedule")).click()
    row.get_by_role("button", name=re.compile("^Move to Mon 30 Nov 10:00")).click()
    expect(page.locator("#announcements")).to_contain_text(
        "Moved to Mon 30 Nov 2026, 10:00"
    )
    day.seen(page)


def check_in(page: Any, visit: Visit, day: Day) -> None:
    page.goto("/desk/?tab=today")
    row = row_of(page, visit)
    expect(row).to_contain_text("10:00")
    row.get_by_role("button", name=re.compile("^Check in")).click()
    expect(page.locator("body")).to_contain_text("Checked in")
    day.seen(page)


def complete(page: Any, visit: Visit, day: Day) -> None:
    page.goto("/surgeon/")
    day.seen(page)
    page.locator(f"#visit-{visit.pk}, #waiting-{visit.pk}").first.get_by_role(
        "button", name=re.compile("^Complete")
    ).click()
    status_becomes(visit, VisitStatus.COMPLETED)
    day.seen(page)


def slip_on_deceased(page: Any, patient: Patient, visit: Visit, day: Day) -> None:
    page.goto(f"/desk/patients/{patient.pk}/")
    entry = page.locator(f"#visit-{visit.pk}")
    entry.get_by_text("Record a contact attempt").click()
    entry.get_by_label("Outcome").select_option(label="Deceased")
    entry.get_by_label("Note").fill("Daughter answered")
    entry.get_by_role("button", name=re.compile("^Record attempt")).click()
    confirm = page.locator(".confirm-ending")
    expect(confirm).to_contain_text("cancels")
    expect(confirm).to_contain_text("One-month control")
    day.seen(page)
    # Nothing happened yet, and what was typed is still there.
    expect(page.locator(f"#visit-{visit.pk}").get_by_label("Note")).to_have_value(
        "Daughter answered"
    )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.TO_BOOK


def cancel_by_mistake(page: Any, visit: Visit) -> None:
    page.goto("/desk/?tab=all&q=munoz")
    row = row_of(page, visit)
    row.get_by_role("link", name=re.compile("^Cancel")).click()
    row.get_by_label("Why is this visit no longer needed?").fill("Wrong patient")
    row.get_by_role("button", name="Cancel visit").click()
    status_becomes(visit, VisitStatus.CANCELLED)


def reopen(page: Any, patient: Patient, visit: Visit, day: Day) -> None:
    page.goto(f"/desk/patients/{patient.pk}/")
    day.seen(page)
    page.get_by_text(re.compile("cancelled by mistake")).click()
    page.get_by_label("Why reopen it?").fill("Cancelled the wrong patient")
    page.get_by_role("button", name="Reopen: to book again").click()
    status_becomes(visit, VisitStatus.TO_BOOK)
    assert visit.events.filter(reason__icontains="wrong patient").exists()
    day.seen(page)


def stale_booking(first: Any, second: Any, visit: Visit) -> None:
    # Both clerks open the same row's slots; the first books.
    for page in (first, second):
        page.goto("/desk/?tab=all&q=munoz")
        row_of(page, visit).get_by_role("link", name=re.compile("^Book")).click()
        expect(row_of(page, visit).locator(".slot-list")).to_be_visible()
    row_of(first, visit).locator(".slot").first.click()
    expect(first.locator("body")).to_contain_text("Booked")
    visit.refresh_from_db()
    booked_at = visit.start

    row_of(second, visit).locator(".slot").nth(1).click()

    expect(row_of(second, visit).locator(".row-error")).to_contain_text(
        "This visit changed after it was shown: desk booked it for"
    )
    visit.refresh_from_db()
    assert visit.start == booked_at


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_clerks_whole_day(
    day_pages: Callable[[bool], Opener],
    cast: dict[str, User],
    monkeypatch: pytest.MonkeyPatch,
    javascript: bool,
) -> None:
    pin_clock(monkeypatch)
    open_as = day_pages(javascript)
    day = Day(javascript)
    desk = open_as(cast["front_desk"])

    patient = register(desk, day)
    control = Visit.objects.get(patient=patient, rule__code="postop_control")
    month = Visit.objects.get(patient=patient, rule__code="one_month_control")
    book_first_slot(desk, control, day)
    reschedule_from_the_appointments(desk, control, day)
    check_in(desk, control, day)
    complete(open_as(cast["surgeon_a"]), control, day)
    slip_on_deceased(desk, patient, month, day)
    cancel_by_mistake(desk, month)
    admin = open_as(cast["clinic_admin"])
    reopen(admin, patient, month, day)
    stale_booking(desk, admin, month)

    assert Visit.objects.get(pk=month.pk).status == VisitStatus.BOOKED
    if javascript:
        assert {
            "/desk/",
            "/desk/patients/new/",
            f"/desk/patients/{patient.pk}/",
            "/desk/appointments/",
            "/surgeon/",
        } <= day.pages_checked
