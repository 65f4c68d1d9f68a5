"""/calendar-links/ by plain forms: who manages which link, the URL shown once."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.test import Client

from clinic.models import Surgeon
from feeds import links
from feeds.models import CalendarLink, LinkScope
from tests.feeds.helpers import find_active
from tests.racing import at_once, both_reach

pytestmark = pytest.mark.django_db


def test_a_surgeons_new_url_is_shown_once_and_never_cached(
    client: Client, surgeon_a: Surgeon
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    response = client.post("/calendar-links/", {"scope": "surgeon"})

    link = CalendarLink.objects.get()
    assert (link.scope, link.surgeon_id) == (LinkScope.SURGEON, surgeon_a.pk)
    url = response.context["new_url"].url
    assert url.startswith("http://testserver/calendar/")
    assert find_active(url.split("/calendar/")[1].removesuffix(".ics"))
    html = response.content.decode()
    assert f'value="{url}"' in html
    assert 'href="webcal://testserver/calendar/' in html
    assert "no-store" in response["Cache-Control"]
    assert url not in client.get("/calendar-links/").content.decode()


def test_a_second_link_for_the_same_calendar_is_refused_with_a_reason(
    client: Client, surgeon_a: Surgeon
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]
    client.post("/calendar-links/", {"scope": "surgeon"})

    response = client.post("/calendar-links/", {"scope": "surgeon"})

    assert response.status_code == 409
    assert "already has a link" in response.content.decode()
    assert CalendarLink.objects.count() == 1


def test_a_clinic_admin_manages_the_clinics_link(
    client: Client, clinic_admin: User
) -> None:
    client.force_login(clinic_admin)

    response = client.post("/calendar-links/", {"scope": "clinic"})

    assert response.status_code == 200
    assert CalendarLink.objects.get().scope == LinkScope.CLINIC
    assert [s.scope for s in response.context["sections"]] == [LinkScope.CLINIC]


def test_the_front_desk_is_told_who_hands_out_the_clinics_link(
    client: Client, front_desk: User
) -> None:
    client.force_login(front_desk)

    page = client.get("/calendar-links/")
    refused = client.post("/calendar-links/", {"scope": "clinic"})

    assert "A clinic admin creates and rotates" in page.content.decode()
    assert "Create a calendar link" not in page.content.decode()
    assert refused.status_code == 403
    assert not CalendarLink.objects.exists()


def test_a_surgeon_cannot_touch_another_surgeons_link(
    client: Client, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    theirs = links.create_link(scope="surgeon", surgeon_id=surgeon_b.pk).link
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    assert client.post(f"/calendar-links/{theirs.pk}/rotate/").status_code == 404
    assert client.post(f"/calendar-links/{theirs.pk}/revoke/").status_code == 404
    assert client.post("/calendar-links/", {"scope": "clinic"}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "Create a calendar link" in client.get("/calendar-links/").content.decode()


def test_a_get_of_rotate_or_revoke_shows_the_links_and_changes_nothing(
    client: Client, surgeon_a: Surgeon
) -> None:
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).link
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    for move in ("rotate", "revoke"):
        response = client.get(f"/calendar-links/{mine.pk}/{move}/")
        assert response.status_code == 302
        assert response["Location"] == "/calendar-links/"
    assert client.put(f"/calendar-links/{mine.pk}/revoke/").status_code == 405
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_the_forms_need_the_csrf_token(surgeon_a: Surgeon) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    assert client.post("/calendar-links/", {"scope": "surgeon"}).status_code == 403
    assert not CalendarLink.objects.exists()


def test_dates_and_times_read_as_the_clinic_writes_them() -> None:
    # 08:20 UTC is 09:20 in Madrid in December.
    moment = dt.datetime(2026, 12, 2, 8, 20, tzinfo=dt.UTC)
    template = Template(
        '{{ moment|date }} · {{ moment|time }} · {{ moment|date:"DATETIME_FORMAT" }}'
    )

    rendered = template.render(Context({"moment": moment}))

    assert rendered == "Wed 2 Dec 2026 · 09:20 · Wed 2 Dec 2026, 09:20"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_create_makes_one_link(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both clicks have read the page's (empty) card before either writes.
    both_reach(monkeypatch, links, "create_link")

    def click() -> tuple[int, str]:
        client = Client()
        client.force_login(surgeon_a.user)  # type: ignore[arg-type]
        response = client.post("/calendar-links/", {"scope": "surgeon"})
        return response.status_code, response.content.decode()

    answers = sorted(at_once([click, click]))

    assert [status for status, _ in answers] == [200, 409]
    assert "already has a link" in answers[1][1]
    assert CalendarLink.objects.filter(revoked_at=None).count() == 1


# 08:20 UTC is 09:20 in Madrid in December.
FIRST_CLICK = dt.datetime(2026, 12, 2, 8, 20, tzinfo=dt.UTC)


def test_a_second_click_on_revoke_says_the_link_is_revoked_already(
    client: Client,
    surgeon_a: Surgeon,
    surgeon_b: Surgeon,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).link
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]
    monkeypatch.setattr("clinic.clock.now", lambda: FIRST_CLICK)
    client.post(f"/calendar-links/{mine.pk}/revoke/", follow=True)
    later = FIRST_CLICK + dt.timedelta(seconds=1)
    monkeypatch.setattr("clinic.clock.now", lambda: later)

    again = client.post(f"/calendar-links/{mine.pk}/revoke/", follow=True)

    assert again.redirect_chain == [("/calendar-links/", 302)]
    assert again.status_code == 200
    text = again.content.decode()
    assert (
        "This link was already revoked, on Wed 2 Dec 2026, 09:20: its URL no "
        "longer works. Nothing was changed."
    ) in text
    assert "Link revoked" not in text
    assert "Create a calendar link" in text
    mine.refresh_from_db()
    assert (mine.revoked_at, mine.revoked_by) == (FIRST_CLICK, surgeon_a.user)
    # Nothing is confirmed to whoever could not have revoked it.
    client.force_login(surgeon_b.user)  # type: ignore[arg-type]
    assert client.post(f"/calendar-links/{mine.pk}/revoke/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_revoke_revokes_once(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).link
    monkeypatch.setattr("clinic.clock.now", lambda: FIRST_CLICK)
    # Both clicks have found the page's live link before either revokes it.
    both_reach(monkeypatch, links, "revoke_link")

    def click() -> tuple[int, str]:
        client = Client()
        client.force_login(surgeon_a.user)  # type: ignore[arg-type]
        response = client.post(f"/calendar-links/{mine.pk}/revoke/", follow=True)
        return response.status_code, response.content.decode()

    answers = at_once([click, click])

    assert [status for status, _ in answers] == [200, 200]
    texts = [text for _, text in answers]
    assert sum("Link revoked: its URL no longer works." in t for t in texts) == 1
    assert sum("This link was already revoked" in t for t in texts) == 1
    mine.refresh_from_db()
    assert (mine.revoked_at, mine.revoked_by) == (FIRST_CLICK, surgeon_a.user)


# What a page's Rotate form carries: the link as the page showed it.
SHOWN = re.compile(r'name="shown" value="([0-9a-f]{16})"')


def shown_on(page: str) -> dict[str, str]:
    """The Rotate form of the page's one link, as the browser posts it."""
    (shown,) = SHOWN.findall(page)
    return {"shown": shown}


# The URL a page shows once, in the field it is copied from.
NEW_URL = re.compile(r'id="feed-url" class="mono" value="([^"]+)"')


def new_url_on(page: str) -> str:
    """The new URL the page shows; read from its HTML, not the test client's
    response.context, which catches every template rendered meanwhile, on
    any thread (a racing click's refusal too)."""
    (url,) = NEW_URL.findall(page)
    return html.unescape(url)


def feed_path(url: str) -> str:
    return "/calendar/" + url.split("/calendar/")[1]


def two_tabs(surgeon: Surgeon) -> tuple[CalendarLink, Client, Client]:
    """The surgeon's link, and two tabs of theirs signed in: the old one and
    the new one."""
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).link
    old_tab, new_tab = Client(), Client()
    for tab in (old_tab, new_tab):
        tab.force_login(surgeon.user)  # type: ignore[arg-type]
    return mine, old_tab, new_tab


def test_a_rotate_from_a_page_shown_before_another_rotation_is_refused(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, old_tab, new_tab = two_tabs(surgeon_a)
    rotate = f"/calendar-links/{mine.pk}/rotate/"
    old_page = old_tab.get("/calendar-links/").content.decode()
    monkeypatch.setattr("clinic.clock.now", lambda: FIRST_CLICK)
    new_page = new_tab.get("/calendar-links/").content.decode()
    handed_out = new_tab.post(rotate, shown_on(new_page)).context["new_url"].url
    later = FIRST_CLICK + dt.timedelta(minutes=5)
    monkeypatch.setattr("clinic.clock.now", lambda: later)

    stale = old_tab.post(rotate, shown_on(old_page))

    assert stale.status_code == 409
    text = stale.content.decode()
    assert (
        "This link was rotated on Wed 2 Dec 2026, 09:20, after your page was "
        "shown. Nothing was changed: the URL issued then is the one that works "
        "now; if you still need a new one, rotate the link again."
    ) in text
    assert stale.context["new_url"] is None
    assert "/calendar/" not in text
    assert old_tab.get(feed_path(handed_out)).status_code == 200
    mine.refresh_from_db()
    assert mine.rotated_at == FIRST_CLICK
    # The page it answers with shows the link as it is: its Rotate works.
    assert old_tab.post(rotate, shown_on(text)).status_code == 200


def test_a_rotate_with_an_unreadable_page_copy_is_refused_and_changes_nothing(
    client: Client, surgeon_a: Surgeon
) -> None:
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk).link
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    response = client.post(
        f"/calendar-links/{mine.pk}/rotate/", {"shown": "not a fingerprint"}
    )

    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "This page's copy of the link is unreadable, so nothing was changed" in text
    assert CalendarLink.objects.get().token_hash == mine.token_hash


def link_as_shown(
    surgeon: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> tuple[CalendarLink, dict[str, str]]:
    """The surgeon's link, and the Rotate form their page shows of it; the
    clicks that follow happen at FIRST_CLICK."""
    mine = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).link
    monkeypatch.setattr("clinic.clock.now", lambda: FIRST_CLICK)
    page = Client()
    page.force_login(surgeon.user)  # type: ignore[arg-type]
    return mine, shown_on(page.get("/calendar-links/").content.decode())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_rotate_rotates_once(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, form = link_as_shown(surgeon_a, monkeypatch)
    # Both clicks have found the page's link before either rotates it.
    both_reach(monkeypatch, links, "rotate_link")

    def click() -> tuple[int, str]:
        client = Client()
        client.force_login(surgeon_a.user)  # type: ignore[arg-type]
        response = client.post(f"/calendar-links/{mine.pk}/rotate/", form)
        page = response.content.decode()
        if response.status_code == 200:
            return 200, new_url_on(page)
        return response.status_code, page

    answers = sorted(at_once([click, click]))

    assert [status for status, _ in answers] == [200, 409]
    handed_out, refused = answers[0][1], answers[1][1]
    assert "This link was rotated on Wed 2 Dec 2026, 09:20" in refused
    assert Client().get(feed_path(handed_out)).status_code == 200


REVOKED_BEFORE_ROTATE = (
    "This link was revoked on Wed 2 Dec 2026, 09:20, after your page was shown: "
    "its URL no longer works and it cannot be rotated. Nothing was changed; "
    "create a new link if one is needed."
)


def test_a_rotate_from_a_page_shown_before_a_revoke_is_refused(
    surgeon_a: Surgeon, surgeon_b: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, old_tab, new_tab = two_tabs(surgeon_a)
    rotate = f"/calendar-links/{mine.pk}/rotate/"
    old_page = old_tab.get("/calendar-links/").content.decode()
    monkeypatch.setattr("clinic.clock.now", lambda: FIRST_CLICK)
    new_tab.post(f"/calendar-links/{mine.pk}/revoke/")
    later = FIRST_CLICK + dt.timedelta(minutes=5)
    monkeypatch.setattr("clinic.clock.now", lambda: later)

    stale = old_tab.post(rotate, shown_on(old_page))

    assert stale.status_code == 409
    text = stale.content.decode()
    assert REVOKED_BEFORE_ROTATE in text
    assert stale.context["new_url"] is None
    assert "/calendar/" not in text
    # The page as it is now: the link is gone, a new one can be created.
    assert "Create a calendar link" in text
    assert "Rotate (new URL)" not in text
    # A page served before Rotate carried `shown` is refused the same way.
    assert old_tab.post(rotate).status_code == 409
    revoked = CalendarLink.objects.get()
    assert (revoked.revoked_at, revoked.revoked_by) == (FIRST_CLICK, surgeon_a.user)
    assert (revoked.token_hash, revoked.rotated_at) == (mine.token_hash, None)
    # Nothing is confirmed to whoever could not have rotated it.
    old_tab.force_login(surgeon_b.user)  # type: ignore[arg-type]
    assert old_tab.post(rotate, shown_on(old_page)).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rotate_while_another_tab_revokes_changes_nothing(
    surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, form = link_as_shown(surgeon_a, monkeypatch)
    # The Rotate has found the link live; the Revoke ends it before the
    # Rotate takes the link's lock.
    rotate_found, revoked = threading.Event(), threading.Event()
    rotate_link, revoke_link = links.rotate_link, links.revoke_link

    def after_the_revoke(**kwargs: Any) -> links.IssuedLink:
        rotate_found.set()
        revoked.wait(timeout=10)
        return rotate_link(**kwargs)

    def while_rotating(**kwargs: Any) -> CalendarLink:
        rotate_found.wait(timeout=10)
        try:
            return revoke_link(**kwargs)
        finally:
            revoked.set()

    monkeypatch.setattr(links, "rotate_link", after_the_revoke)
    monkeypatch.setattr(links, "revoke_link", while_rotating)

    def click(move: str) -> Callable[[], tuple[str, int, str]]:
        def post() -> tuple[str, int, str]:
            client = Client()
            client.force_login(surgeon_a.user)  # type: ignore[arg-type]
            url = f"/calendar-links/{mine.pk}/{move}/"
            response = client.post(url, form if move == "rotate" else {}, follow=True)
            return move, response.status_code, response.content.decode()

        return post

    answers = sorted(at_once([click("revoke"), click("rotate")]))

    (_, revoke_status, revoke_text), (_, rotate_status, rotate_text) = answers
    assert (revoke_status, rotate_status) == (200, 409)
    assert "Link revoked: its URL no longer works." in revoke_text
    assert REVOKED_BEFORE_ROTATE in rotate_text
    assert "/calendar/" not in rotate_text
    revoked_link = CalendarLink.objects.get()
    assert (revoked_link.revoked_at, revoked_link.rotated_at) == (FIRST_CLICK, None)
    assert revoked_link.token_hash == mine.token_hash
