"""`/reports/` in Chromium: axe-core finds nothing serious at 1280 and 768 px,
for the front desk (table, both charts) and a surgeon (their own row), with
the hand-built history (tests/followup/report_history.py), and with a form
error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from clinic.models import Surgeon
from tests.followup.report_history import History, build_history
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANGE = "/reports/?start=2026-10-01&end=2026-10-16"


@pytest.fixture
def history(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    return build_history(desk=front_desk, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["front_desk", "surgeon_a"])
def test_the_figures_page_is_accessible(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    history: History,
    role: str,
    width: int,
) -> None:
    page = new_page(width=width, user=cast[role])

    response = page.goto(RANGE)

    assert response.status == 200
    expect(page.get_by_role("table", name="Follow-up figures by rule")).to_be_visible()
    # The messages' figures, each rate with its interval in words.
    reaching = page.get_by_role("table", name="Reaching the patient by rule")
    expect(reaching).to_be_visible()
    assert reaching.get_by_text("likely").count() > 0
    charts = page.get_by_role("img")
    assert charts.count() == (2 if role == "front_desk" else 1)
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    assert_no_serious_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_range_is_accessible(
    new_page: Callable[..., Any], cast: dict[str, User], width: int
) -> None:
    page = new_page(width=width, user=cast["front_desk"])

    response = page.goto("/reports/?start=2026-12-31&end=2026-01-01")

    assert response.status == 400
    expect(page.get_by_text("is before the start")).to_be_visible()
    assert_no_serious_axe_violations(page)
