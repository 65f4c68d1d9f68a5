"""People at the pages in Chromium: logging in and out, their calendar links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from feeds.models import CalendarLink
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOMES = {
    "front_desk": ("/desk/", "Worklist", "Front desk"),
    "surgeon_a": ("/surgeon/", "My reviews", "Surgeon"),
    "clinic_admin": ("/desk/", "Worklist", "Clinic admin"),
}


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("role", HOMES)
def test_each_role_logs_in_and_lands_on_its_home(
    new_page: Callable[..., Any], cast: dict[str, User], role: str
) -> None:
    home, heading, label = HOMES[role]
    page = new_page()

    log_in(page, cast[role].username, PASSWORD)

    page.wait_for_url(f"**{home}")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    header = page.locator("header").inner_text()
    assert cast[role].username in header
    assert label in header


def test_a_wrong_password_shows_the_error_and_keeps_the_username(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page()

    log_in(page, "desk", "not-the-password")

    assert (
        page.get_by_role("alert")
        .inner_text()
        .startswith("Please enter a correct username and password.")
    )
    assert page.get_by_label("Username").input_value() == "desk"
    assert page.get_by_label("Password").input_value() == ""
    assert page.url.endswith("/login/")


def test_logging_out_ends_the_session(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page()
    log_in(page, "desk", PASSWORD)
    page.wait_for_url("**/desk/")

    page.get_by_role("button", name="Log out").click()

    page.wait_for_url("**/login/")
    page.goto("/desk/")
    assert page.url.endswith("/login/?next=/desk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"


def test_a_surgeon_creates_rotates_and_revokes_their_calendar_link(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(user=cast["surgeon_a"])
    page.goto("/calendar-links/")

    page.get_by_role("button", name="Create a calendar link").click()

    first_url = page.get_by_label("Calendar URL").input_value()
    assert first_url.startswith(page.url.split("/calendar-links/")[0] + "/calendar/")
    assert first_url.endswith(".ics")
    subscribe = page.get_by_role("link", name="Subscribe in your calendar app")
    assert subscribe.get_attribute("href") == "webcal://" + first_url.split("://")[1]
    expect(page.get_by_role("button", name="Copy URL")).to_be_visible()
    assert "Google Calendar" in page.locator("#new-url").inner_text()
    assert "Link created" in page.get_by_role("status").inner_text()

    # Shown once: the page opened again lists the link without its URL.
    page.goto("/calendar-links/")
    assert page.get_by_label("Calendar URL").count() == 0
    assert first_url.split("/calendar/")[1] not in page.content()

    page.get_by_role("button", name="Rotate (new URL)").click()
    second_url = page.get_by_label("Calendar URL").input_value()
    assert second_url != first_url
    assert "the old URL no longer works" in page.get_by_role("status").inner_text()
    assert page.request.get(first_url).status == 404
    assert page.request.get(second_url).status == 200

    page.get_by_role("button", name="Revoke").click()

    page.wait_for_url("**/calendar-links/")
    assert "Link revoked" in page.get_by_role("status").inner_text()
    expect(page.get_by_role("button", name="Create a calendar link")).to_be_visible()
    assert page.request.get(second_url).status == 404
    assert CalendarLink.objects.get().revoked_at is not None
