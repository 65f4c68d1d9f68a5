"""A surgeon at `/surgeon/` in Chromium: completing a checked-in visit, and
the page (week view, an open form, a refusal) checked by axe-core at 1280
and 768 px. The clock is pinned: "now" is Wednesday 25 November 2026, 10:00
in Madrid (tests.web.surgeon_world)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from clinic.models import Surgeon
from followup.models import Visit, VisitStatus
from tests.web.conftest import PASSWORD, WIDTHS, assert_no_serious_axe_violations
from tests.web.surgeon_world import NOW, SurgeonWorld, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The live server runs in a thread of this process: it reads this clock.
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture
def world(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> SurgeonWorld:
    return build(front_desk, surgeon_a, surgeon_b)


def test_a_surgeon_sees_the_review_in_upcoming_and_completes_it_after_check_in(
    new_page: Callable[..., Any], world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("surgeon_a")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/surgeon/")

    upcoming = page.get_by_role("region", name="Upcoming")
    row = upcoming.locator(f"#visit-{world.checked_in.pk}")
    assert "AA H-1001" in row.inner_text()
    assert "Checked in" in row.inner_text()
    assert "MRI" in upcoming.locator(f"#visit-{world.annual.pk}").inner_text()

    row.get_by_role("button", name="Complete the visit of AA H-1001").click()

    page.wait_for_url(f"**/surgeon/#visit-{world.checked_in.pk}")
    assert "Saved" in page.get_by_role("status").inner_text()
    assert upcoming.locator(f"#visit-{world.checked_in.pk}").count() == 0
    today = page.get_by_role("region", name="Wed 25 Nov")
    assert "Completed" in today.inner_text()
    assert Visit.objects.get(pk=world.checked_in.pk).status == VisitStatus.COMPLETED


def test_a_refused_end_of_programme_shows_why_and_keeps_the_reason(
    new_page: Callable[..., Any], world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    page = new_page(user=surgeon_a.user)
    page.goto("/surgeon/")
    row = page.locator(f"#visit-{world.annual.pk}")
    row.get_by_text("End the annual-review programme").click()

    row.get_by_label("End date").fill("2024-01-01")
    row.get_by_label("Reason").fill("Healed")
    row.get_by_role("button", name="End annual reviews").click()

    row = page.locator(f"#visit-{world.annual.pk}")
    assert "before the surgery" in row.locator(".row-error").inner_text()
    assert "before the surgery" in page.get_by_role("status").inner_text()
    assert row.get_by_label("Reason").input_value() == "Healed"
    assert row.get_by_label("End date").input_value() == "2024-01-01"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_surgeon_page_has_no_serious_accessibility_violations(
    new_page: Callable[..., Any], world: SurgeonWorld, surgeon_a: Surgeon, width: int
) -> None:
    page = new_page(width=width, user=surgeon_a.user)
    page.goto("/surgeon/")
    assert page.locator(".slot").count() >= 2  # the week view has visits
    assert_no_serious_axe_violations(page)

    # A refusal beside a row, with its form open.
    row = page.locator(f"#visit-{world.annual.pk}")
    row.get_by_text("End the annual-review programme").click()
    row.get_by_label("Reason").fill("Healed")
    row.get_by_label("End date").fill("2024-01-01")
    row.get_by_role("button", name="End annual reviews").click()
    expect(page.locator(".row-error")).to_be_visible()
    assert_no_serious_axe_violations(page)

    page.goto("/surgeon/?week=2026-11-30&days=90")
    assert_no_serious_axe_violations(page)
