"""The appointments view in Chromium: the patient phones to move next week's
control, the clerk finds the booking by name and reschedules it, with and
without JavaScript; a second clerk's stale cancel is refused; axe-core on
the view, its open panels and a visit's own page, at both widths.

The clinic's clock is pinned (`tests.web.desk_data`): Monday 30 November
2026, 08:00 in Madrid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from clinic.clock import start_of_day
from followup import services
from followup.models import Visit, VisitStatus
from tests.web.conftest import PASSWORD, WIDTHS, assert_no_serious_axe_violations
from tests.web.desk_data import TODAY, DeskCast, make_cast, pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Jorge's control is booked on Tuesday at 09:00; his window closes that day.
TUESDAY_NINE = start_of_day(TODAY + dt.timedelta(days=1)) + dt.timedelta(hours=9)


@pytest.fixture
def booked(monkeypatch: pytest.MonkeyPatch) -> tuple[DeskCast, Visit]:
    pin_clock(monkeypatch)
    cast = make_cast()
    visit = cast.visit(cast.jorge, "postop_control")
    services.book_visit(
        visit_id=visit.pk,
        start=TUESDAY_NINE,
        surgeon_id=cast.other_surgeon.pk,
        actor=None,
        now=TUESDAY_NINE - dt.timedelta(days=1),
    )
    return cast, visit


def _find_and_reschedule(page: Any, visit: Visit) -> None:
    page.goto("/desk/appointments/")
    expect(page.locator(".empty")).to_contain_text("No bookings on this day")
    page.get_by_label(re.compile("^Patient name")).fill("ruiz")
    page.get_by_role("button", name="Show").click()
    row = page.locator(f"#visit-{visit.pk}")
    expect(row).to_contain_text("Tue 1 Dec, 09:00")
    row.get_by_role("link", name=re.compile("^Reschedule")).click()
    page.locator(f"#visit-{visit.pk}").get_by_role(
        "button", name=re.compile("^Move to Mon 30 Nov 09:00")
    ).click()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_clerk_finds_a_booking_by_name_and_reschedules_it(
    browser: Any,
    live_server: Any,
    cast: dict[str, User],
    booked: tuple[DeskCast, Visit],
    javascript: bool,
) -> None:
    _, visit = booked
    context = browser.new_context(
        java_script_enabled=javascript, base_url=live_server.url
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login/")
        page.get_by_label("Username").fill("desk")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/desk/")
        page.get_by_role("link", name="Appointments").click()
        page.wait_for_url("**/desk/appointments/")

        _find_and_reschedule(page, visit)

        expect(page.locator("#announcements")).to_contain_text(
            "Moved to Mon 30 Nov 2026, 09:00"
        )
        assert "q=ruiz" in page.url
        visit.refresh_from_db()
        assert visit.start == TUESDAY_NINE - dt.timedelta(days=1)
    finally:
        context.close()


def test_a_second_clerks_stale_cancel_is_refused_with_who_moved_it(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    booked: tuple[DeskCast, Visit],
) -> None:
    desk_cast, visit = booked
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/appointments/?day=2026-12-01")
    row = page.locator(f"#visit-{visit.pk}")
    row.get_by_role("link", name=re.compile("^Unbook or cancel")).click()
    row.get_by_label("Why is this visit no longer needed?").fill("Seen elsewhere")
    # Meanwhile the admin moves it.
    services.reschedule_visit(
        visit_id=visit.pk,
        start=TUESDAY_NINE + dt.timedelta(hours=1),
        surgeon_id=desk_cast.other_surgeon.pk,
        actor=cast["clinic_admin"],
        now=TUESDAY_NINE - dt.timedelta(days=1),
    )

    row.get_by_role("button", name="Cancel visit").click()

    expect(row.locator(".row-error")).to_contain_text(
        "clinic_admin moved it to Tue 1 Dec 2026, 10:00"
    )
    expect(row.get_by_label("Why is this visit no longer needed?")).to_have_value(
        "Seen elsewhere"
    )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.BOOKED


@pytest.mark.parametrize("width", WIDTHS)
def test_the_appointments_and_a_visits_page_have_no_serious_violations(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    booked: tuple[DeskCast, Visit],
    width: int,
) -> None:
    _, visit = booked
    page = new_page(width=width, user=cast["front_desk"])

    page.goto("/desk/appointments/?day=2026-12-01")
    expect(page.locator("tbody.visit")).to_have_count(1)
    assert_no_serious_axe_violations(page)
    row = page.locator(f"#visit-{visit.pk}")
    row.get_by_role("link", name=re.compile("^Reschedule")).click()
    expect(row.locator(".slot-list")).to_be_visible()
    assert_no_serious_axe_violations(page)
    row.get_by_role("link", name=re.compile("^Unbook or cancel")).click()
    expect(page.get_by_role("button", name="Unbook")).to_be_focused()
    assert_no_serious_axe_violations(page)

    page.goto(f"/desk/visits/{visit.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jorge Ruiz")
    assert_no_serious_axe_violations(page)
