"""Issue 19 in Chromium: a slip on *Deceased* is stopped by the confirmation
(with JavaScript on the desk's call list, without it on the patient page),
the clinic admin reopens a mistaken cancel, and a visit checked in on an
earlier day waits to be completed; axe-core on each at 1280 and 768 px.

The clock is pinned (`tests.web.desk_data`): Monday 30 November 2026.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from followup import services
from followup.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Visit,
    VisitStatus,
)
from tests.web.conftest import PASSWORD, WIDTHS, assert_no_serious_axe_violations
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk_cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


def statuses(desk_cast: DeskCast) -> set[str]:
    return set(
        Visit.objects.filter(patient=desk_cast.jorge).values_list("status", flat=True)
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_a_slip_on_deceased_is_stopped_on_the_call_list(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    width: int,
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    page = new_page(width=width, user=cast["front_desk"])
    page.goto("/desk/?tab=call")
    row = page.locator(f"#visit-{jorge.pk}")
    row.get_by_role("link", name=re.compile("^Record attempt")).click()
    row.get_by_label("Outcome").select_option(label="Deceased")
    row.get_by_label("Note").fill("Rang the wrong number")
    row.get_by_role("button", name="Record attempt", exact=True).click()

    confirm = page.locator(f"#visit-{jorge.pk} .confirm-ending")
    expect(confirm).to_contain_text("One-month control")
    expect(page.locator(f"#visit-{jorge.pk}").get_by_label("Note")).to_have_value(
        "Rang the wrong number"
    )
    assert not ContactAttempt.objects.exists()
    assert statuses(desk_cast) == {VisitStatus.TO_BOOK}
    assert_no_serious_axe_violations(page)

    confirm.get_by_role("button", name=re.compile("^Yes, record")).click()
    expect(page.locator("#announcements")).to_contain_text("Saved.")
    assert statuses(desk_cast) == {VisitStatus.CANCELLED}


def test_without_javascript_the_patient_page_asks_then_records(
    browser: Any, live_server: Any, cast: dict[str, User], desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill("desk")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/desk/")
        page.goto(f"/desk/patients/{desk_cast.jorge.pk}/")
        item = page.locator(f"#visit-{jorge.pk}")
        item.locator("summary", has_text="contact attempt").click()
        item.get_by_label("Outcome").select_option(label="Moved away")
        item.get_by_role("button", name=re.compile("^Record attempt")).click()

        expect(page.locator(f"#visit-{jorge.pk} .confirm-ending")).to_be_visible()
        assert statuses(desk_cast) == {VisitStatus.TO_BOOK}
        page.locator(f"#visit-{jorge.pk} .confirm-ending").get_by_role(
            "button", name=re.compile("^Yes, record")
        ).click()

        expect(page.locator("#announcements")).to_contain_text("Saved.")
        expect(page.locator(".patient-head h1")).to_contain_text("Moved away")
        assert statuses(desk_cast) == {VisitStatus.CANCELLED}
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admin_reopens_a_mistaken_cancel_with_a_reason(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    width: int,
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    services.record_contact_attempt(
        visit_id=jorge.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.DECEASED,
        actor=None,
        now=NOW,
    )
    page = new_page(width=width, user=cast["clinic_admin"])
    page.goto(f"/desk/patients/{desk_cast.jorge.pk}/")
    expect(page.locator(".patient-head h1")).to_contain_text("Deceased")
    item = page.locator(f"#visit-{jorge.pk}")
    item.locator("summary", has_text="Reopen").click()
    assert_no_serious_axe_violations(page)

    item.get_by_label("Why reopen it?").fill("Wrong patient recorded as deceased")
    item.get_by_role("button", name=re.compile("^Reopen")).click()

    expect(page.locator("#announcements")).to_contain_text("reopened")
    assert Visit.objects.get(pk=jorge.pk).status == VisitStatus.TO_BOOK
    assert_no_serious_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visit_checked_in_yesterday_waits_and_is_completed(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    width: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    maria = desk_cast.visit(desk_cast.maria, "postop_control")
    services.book_visit(
        visit_id=maria.pk,
        start=dt.datetime.fromisoformat("2026-11-30T09:00:00+01:00"),
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )
    services.check_in_visit(visit_id=maria.pk, actor=None, now=NOW)
    tomorrow = NOW + dt.timedelta(days=1)
    monkeypatch.setattr("clinic.clock.now", lambda: tomorrow)
    page = new_page(width=width, user=cast["front_desk"])
    page.goto("/desk/")
    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text("García López")
    assert_no_serious_axe_violations(page)

    waiting.get_by_role("button", name=re.compile("^Complete")).click()

    expect(page.locator("#announcements")).to_contain_text("Completed.")
    assert Visit.objects.get(pk=maria.pk).status == VisitStatus.COMPLETED
