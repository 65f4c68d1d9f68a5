"""axe-core on every page so far, for every role that opens it, at a desk
(1280 px) and on a tablet (768 px): nothing serious or critical."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "anonymous": ["/login/"],
    "front_desk": ["/desk/", "/calendar-links/", "/account/password/"],
    "surgeon_a": ["/surgeon/", "/calendar-links/"],
    "clinic_admin": ["/desk/", "/calendar-links/", "/account/two-factor/"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", PAGES)
def test_pages_have_no_serious_accessibility_violations(
    new_page: Callable[..., Any], cast: dict[str, User], role: str, width: int
) -> None:
    page = new_page(width=width, user=cast.get(role))

    for path in PAGES[role]:
        response = page.goto(path)
        assert response.status == 200, path
        assert_no_serious_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_new_calendar_url_and_a_login_error_are_accessible(
    new_page: Callable[..., Any], cast: dict[str, User], width: int
) -> None:
    page = new_page(width=width, user=cast["surgeon_a"])
    page.goto("/calendar-links/")
    page.get_by_role("button", name="Create a calendar link").click()
    expect(page.get_by_label("Calendar URL")).to_be_visible()
    assert_no_serious_axe_violations(page)

    anonymous = new_page(width=width)
    anonymous.goto("/login/")
    anonymous.get_by_label("Username").fill("desk")
    anonymous.get_by_label("Password").fill("wrong")
    anonymous.get_by_role("button", name="Log in").click()
    expect(anonymous.get_by_role("alert")).to_be_visible()
    assert_no_serious_axe_violations(anonymous)
