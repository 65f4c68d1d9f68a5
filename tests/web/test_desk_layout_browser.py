"""The worklist fits its card (D11): at 1280 px no tab's table is wider than
the card it sits in (actions wrap, long names wrap), and at 768 px the page
never scrolls sideways (the rows are blocks of labelled lines there).

The cast (`tests.web.desk_data`) gets a patient with a long name whose
visits fill every tab: a booked post-op control flagged for rebooking
(*All*, *Needs rebooking*), an overdue control on the call list with an
attempt, and a booking today (*Today*).
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
from followup.models import ContactOutcome, Visit
from followup.models.worklist import TABS
from tests.factories import PatientFactory, make_procedure
from tests.web.conftest import assert_no_serious_axe_violations
from tests.web.desk_data import (
    NOW,
    TODAY,
    DeskCast,
    attempt,
    book_at,
    make_cast,
    pin_clock,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_GIVEN = "Maximiliana Concepción Inmaculada"
LONG_FAMILY = "Fernández-Villaverde de los Caballeros y Montenegro"


@pytest.fixture
def full_desk(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    cast = make_cast()
    long = PatientFactory.create(
        record_number="MRN00777", given_name=LONG_GIVEN, family_name=LONG_FAMILY
    )
    make_procedure(
        patient=long,
        surgeon=cast.surgeon,
        surgery_date=dt.date(2026, 11, 20),
        today=TODAY,
    )
    late = PatientFactory.create(
        record_number="MRN00778", given_name=LONG_GIVEN, family_name=LONG_FAMILY + " II"
    )
    make_procedure(
        patient=late,
        surgeon=cast.surgeon,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    booked = cast.visit(long, "postop_control")
    book_at(booked, "2026-12-02T10:00:00+01:00", cast.surgeon)
    Visit.objects.filter(pk=booked.pk).update(needs_rebooking=True)
    maria = cast.visit(cast.maria, "postop_control")
    book_at(maria, "2026-11-30T09:00:00+01:00", cast.surgeon)
    attempt(cast.visit(late, "postop_control"), ContactOutcome.LEFT_MESSAGE, days_ago=1)
    return cast


OVERFLOW = """() => {
  const tables = [...document.querySelectorAll('table.visits')];
  return tables.map(table => {
    const card = table.closest('.worklist__body, .waiting');
    return {scroll: table.scrollWidth, card: card.clientWidth,
            page: document.documentElement.scrollWidth, view: window.innerWidth};
  });
}"""


def _tabs_with_rows(page: Any) -> list[str]:
    shown = []
    for tab in TABS:
        page.goto(f"/desk/?tab={tab}")
        if page.locator("tbody.visit").count():
            shown.append(tab)
    return shown


def test_at_1280_px_no_tab_s_table_is_wider_than_its_card(
    new_page: Callable[..., Any], cast: dict[str, User], full_desk: DeskCast
) -> None:
    page = new_page(width=1280, user=cast["front_desk"])
    shown = _tabs_with_rows(page)
    assert {"all", "rebooking", "call", "today", "overdue"} <= set(shown)
    for tab in shown:
        page.goto(f"/desk/?tab={tab}")
        for measured in page.evaluate(OVERFLOW):
            assert measured["scroll"] <= measured["card"], (tab, measured)
            assert measured["page"] <= measured["view"], (tab, measured)
    for tab in ("rebooking", "call"):
        page.goto(f"/desk/?tab={tab}")
        assert_no_serious_axe_violations(page)


def test_at_768_px_the_page_never_scrolls_sideways(
    new_page: Callable[..., Any], cast: dict[str, User], full_desk: DeskCast
) -> None:
    page = new_page(width=768, user=cast["front_desk"])
    for tab in _tabs_with_rows(page):
        page.goto(f"/desk/?tab={tab}")
        for measured in page.evaluate(OVERFLOW):
            assert measured["page"] <= measured["view"], (tab, measured)
            assert measured["scroll"] <= measured["card"], (tab, measured)
    page.goto("/desk/?tab=call")
    assert_no_serious_axe_violations(page)


def test_one_click_records_no_answer_on_the_call_list_row(
    new_page: Callable[..., Any], cast: dict[str, User], full_desk: DeskCast
) -> None:
    jorge = full_desk.visit(full_desk.jorge, "postop_control")
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto("/desk/?tab=call")
    row = page.locator(f"#visit-{jorge.pk}")
    expect(row.locator(".visit__contact")).to_contain_text("Not tried yet")

    row.get_by_role("button", name=re.compile("^No answer")).click()

    expect(page.locator("#announcements")).to_contain_text(
        "Saved. Ruiz, Jorge · MRN00020: Phone attempt recorded: no answer."
    )
    expect(row.locator(".contact__count")).to_have_text("1 attempt")
    row.get_by_role("button", name=re.compile("^Left a message")).click()
    expect(row.locator(".contact__count")).to_have_text("2 attempts")
    expect(row.locator(".contact__last")).to_have_text("Left a message")
    assert_no_serious_axe_violations(page)


@pytest.mark.parametrize("width", [1280, 700])
def test_the_list_prints_as_a_full_width_table_with_its_heading_and_date(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    full_desk: DeskCast,
    width: int,
) -> None:
    page = new_page(width=width, user=cast["front_desk"])
    page.goto("/desk/?tab=call")
    expect(page.get_by_text("Printed")).to_be_hidden()

    page.emulate_media(media="print")

    expect(page.get_by_role("heading", name="Patients to call")).to_be_visible()
    expect(page.get_by_text("Printed Mon 30 Nov 2026")).to_be_visible()
    for hidden in ("nav[aria-label=Main]", "form[role=search]", "#desk-tabs"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator(".visit__actions").first).to_be_hidden()
    expect(
        page.get_by_role("button", name=re.compile("^No answer")).first
    ).to_be_hidden()
    expect(page.locator(".visits thead")).to_be_visible()  # a table, not blocks
    widths = page.evaluate(
        "() => [document.querySelector('.visits').getBoundingClientRect().width,"
        " document.querySelector('main').clientWidth]"
    )
    assert widths[0] == pytest.approx(widths[1], abs=2)


@pytest.mark.parametrize("width", [1280, 768])
def test_the_waiting_to_be_completed_table_fits_its_card(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    full_desk: DeskCast,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    full_desk.maria.family_name = LONG_FAMILY
    full_desk.maria.save()
    maria = full_desk.visit(full_desk.maria, "postop_control")
    services.check_in_visit(visit_id=maria.pk, actor=None, now=NOW)
    pin_clock(monkeypatch, NOW + dt.timedelta(days=1))
    page = new_page(width=width, user=cast["front_desk"])

    page.goto("/desk/")

    expect(page.locator("#waiting")).to_contain_text("Fernández-Villaverde")
    for measured in page.evaluate(OVERFLOW):
        assert measured["scroll"] <= measured["card"], measured
        assert measured["page"] <= measured["view"], measured


def test_download_csv_downloads_the_list_with_javascript_on(
    new_page: Callable[..., Any], cast: dict[str, User], full_desk: DeskCast
) -> None:
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto("/desk/?tab=call&due_to=2026-11-01")
    link = page.get_by_role("link", name="Download CSV (4 visits)")

    with page.expect_download() as started:
        link.click()

    download = started.value
    assert download.suggested_filename == "worklist-call-2026-11-30.csv"
    with open(download.path(), encoding="utf-8") as csv_file:
        assert len(csv_file.read().splitlines()) == 1 + 4
