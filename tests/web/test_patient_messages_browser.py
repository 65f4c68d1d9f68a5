"""The patient page's messages in Chromium, checked with axe-core at 1280 and
768 px: a sent reminder whose text opens, a failed one saying why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from messaging.models import Kind, Message, Status
from messaging.services import send_due_messages
from tests.followup.world import NOW, book, madrid
from tests.messaging.conftest import visit_of
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_patients_messages_read_and_pass_axe(
    new_page: Callable[..., Any], cast: dict[str, User], width: int
) -> None:
    visit = book(visit_of(), actor=cast["front_desk"])
    send_due_messages(now=madrid(2026, 11, 25, 9))
    other = book(visit_of(), actor=cast["front_desk"], start=madrid(2026, 11, 27, 10))
    Message.objects.filter(visit=other, kind=Kind.REMINDER).update(
        patient=visit.patient,
        status=Status.FAILED,
        error="the number is not a valid phone number (Twilio error 21211)",
    )
    reminder = Message.objects.get(visit=visit, kind=Kind.REMINDER)
    page = new_page(width=width, user=cast["front_desk"])

    page.goto(f"/desk/patients/{visit.patient_id}/")
    messages = page.locator("#messages")
    messages.locator(".sent-message--sent summary").first.click()

    expect(messages.get_by_text(reminder.text)).to_be_visible()
    expect(messages).to_contain_text("(Twilio error 21211)")
    assert_no_serious_axe_violations(page)
