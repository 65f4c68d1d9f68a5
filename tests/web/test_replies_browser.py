"""The worklist's *Replies* tab in Chromium, checked with axe-core at 1280 and
768 px: a change request, an unclear text from an unknown number and a
failed delivery; *Resolve* (htmx) resolves one in place and the tab's count
follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from messaging.models import Kind, Message, Status
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from tests.factories import UserFactory
from tests.followup.world import FRIDAY_9, book, madrid
from tests.messaging.conftest import MOBILE, visit_of
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEN = madrid(2026, 11, 25, 10)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: TEN)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_replies_tab_resolves_in_place_and_passes_axe(
    new_page: Callable[..., Any], cast: dict[str, User], width: int
) -> None:
    visit = book(visit_of(), FRIDAY_9, actor=cast["front_desk"], now=TEN)
    other = book(
        visit_of(), FRIDAY_9.replace(hour=10), actor=cast["front_desk"], now=TEN
    )
    send_due_messages(now=TEN)
    Message.objects.filter(visit=other, kind=Kind.REMINDER).update(
        status=Status.FAILED,
        error="the carrier filtered the message as spam (Twilio error 30007)",
    )
    change = receive_sms(number=MOBILE, body="R", sid="SM1", now=TEN)
    receive_sms(number="+34699999999", body="¿Quién es?", sid="SM2", now=TEN)
    assert change.visit_id == visit.pk
    page = new_page(width=width, user=cast["front_desk"])

    page.goto("/desk/replies/")
    replies = page.locator("#replies")
    tab = page.locator("#desk-tabs").get_by_role("link", name="Replies")

    expect(tab).to_contain_text("3")
    expect(replies).to_contain_text("Wants another time")
    expect(replies).to_contain_text("Unknown number +34699999999")
    expect(replies).to_contain_text("(Twilio error 30007)")
    assert_no_serious_axe_violations(page)

    page.get_by_role("button", name="Resolve the reply from Unknown number").click()

    row = page.locator("tbody", has_text="Unknown number +34699999999")
    expect(row).to_contain_text("Resolved by")
    expect(tab).to_contain_text("2")
    assert_no_serious_axe_violations(page)


def test_a_reply_another_clerk_resolved_meanwhile_is_said_on_the_row(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    book(visit_of(), FRIDAY_9, actor=cast["front_desk"], now=TEN)
    send_due_messages(now=TEN)
    change = receive_sms(number=MOBILE, body="R", sid="SM1", now=TEN)
    rosa = UserFactory.create(username="rosa", group="front_desk")
    mine = new_page(user=cast["front_desk"])
    theirs = new_page(user=rosa)
    for page in (mine, theirs):
        page.goto("/desk/replies/")
    resolve = "Resolve the reply from"

    theirs.get_by_role("button", name=resolve).click()
    expect(theirs.locator(f"#reply-{change.pk}")).to_contain_text("Resolved by rosa")
    mine.get_by_role("button", name=resolve).click()

    # htmx swaps no 4xx answer: a 409 left the row, its button and all, as
    # it was, and the clerk with no word of what happened.
    row = mine.locator(f"#reply-{change.pk}")
    expect(row.get_by_role("alert")).to_have_text("Already resolved by rosa.")
    expect(row).to_contain_text("Resolved by rosa")
    expect(row.get_by_role("button", name=resolve)).to_have_count(0)
    assert Message.objects.get(pk=change.pk).resolved_by == rosa


def test_the_replies_tab_fits_a_phone(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    # At 375 px a row was 396 px wide: its six cells in three columns, the
    # sender beside a "Wants another time" badge that does not wrap.
    book(visit_of(), FRIDAY_9, actor=cast["front_desk"], now=TEN)
    send_due_messages(now=TEN)
    receive_sms(number=MOBILE, body="R", sid="SM1", now=TEN)
    page = new_page(width=375, user=cast["front_desk"])

    page.goto("/desk/replies/")

    expect(page.locator("#replies")).to_contain_text("Wants another time")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # What came of it follows the words as text, not a block's side bar
    # drawn in the middle of the line.
    outcome = page.locator("#replies td", has_text="another time").last
    expect(outcome).to_contain_text("The patient asks for another time")
    borders = outcome.evaluate(
        "cell => [...cell.querySelectorAll('*')].map("
        "e => getComputedStyle(e).borderLeftStyle)"
    )
    assert set(borders) == {"none"}
