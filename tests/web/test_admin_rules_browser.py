"""The admin's list of follow-up rules fits a 1280 px screen: no sideways
scrolling to reach a rule's last columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_rule_list_fits_1280_px(
    new_page: Callable[..., Any], clinic_admin: User
) -> None:
    page = new_page(width=1280, user=clinic_admin)

    page.goto("/admin/followup/followuprule/")

    expect(page.locator("#result_list")).to_be_visible()
    assert page.locator("#result_list tbody tr").count() >= 3
    width = page.evaluate("document.documentElement.scrollWidth")
    table = page.evaluate(
        "document.querySelector('#result_list').getBoundingClientRect().right"
    )
    # The list's own box does not scroll sideways (or clip) either.
    results = page.evaluate(
        "(() => { const box = document.querySelector('.results');"
        " return [box.scrollWidth, box.clientWidth]; })()"
    )
    row = page.locator("#result_list tbody tr", has_text="One-month control")
    assert "1 month" in row.inner_text() and "\N{MINUS SIGN}7 / +7" in row.inner_text()
    assert width <= 1280, f"the page is {width} px wide"
    assert table <= 1280, f"the table ends at {table} px"
    assert results[0] <= results[1], f"the list is {results[0]} of {results[1]} px"
