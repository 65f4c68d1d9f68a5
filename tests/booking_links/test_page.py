"""The patient's booking page: only the allowed facts, and booking, moving
and giving up the time through its form, on the desk's services."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client

from booking_links.models import BookingLink, BookingLinkUse, LinkUse
from followup import services
from followup.models import PATIENT_REQUEST, Visit, VisitEvent, VisitStatus
from tests.api.conftest import FREE_SLOT, MADRID, NOW, World
from tests.booking_links.conftest import (
    Linked,
    form_token_of,
    make_link,
    patient_client,
)
from web.patient_link.forms import FORM_SALT, FORM_TOKEN_MAX_AGE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LATER_SLOT = FREE_SLOT + dt.timedelta(hours=1)


def _post(client: Client, linked: Linked, **data: str) -> object:
    token = form_token_of(client, linked.url)
    linked.visit.refresh_from_db()
    form = {
        "form_token": token,
        "sequence": str(linked.visit.sequence),
        **data,
    }
    return client.post(linked.url, form)


def test_the_page_shows_the_visit_and_given_name_only(
    linked: Linked, world: World
) -> None:
    page = patient_client().get(linked.url).content.decode()

    assert "Ana" in page
    assert linked.visit.rule.name in page
    assert "Fri 27 Nov 2026" in page  # the window opens, and the first slots
    assert "Sat 5 Dec 2026" in page
    assert world.patient_a.family_name not in page
    assert world.patient_a.record_number not in page
    assert world.patient_b.given_name not in page
    assert world.patient_b.family_name not in page
    # No other visit of the patient: her annual review is not named.
    others = world.procedure_a.visits.exclude(pk=linked.visit.pk)
    assert all(f"{other.rule.name}<" not in page for other in others)
    assert 'value="2026-11-27T09:00:00+01:00"' in page


def test_the_page_is_private_and_never_cached(linked: Linked) -> None:
    response = patient_client().get(linked.url)

    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    gone = patient_client().get(f"/p/{'y' * 43}/")
    assert gone["Cache-Control"] == "no-store"
    assert gone["Referrer-Policy"] == "no-referrer"


def test_the_page_sets_no_cookie_runs_no_script_and_may_not_be_framed(
    linked: Linked,
) -> None:
    response = patient_client().get(linked.url)
    page = response.content.decode()

    assert response.cookies == {}  # no session, no CSRF cookie on a phone
    assert "<script" not in page
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_signed_in_clerk_opening_a_link_sees_the_patients_page_only(
    linked: Linked, front_desk: User
) -> None:
    clerk = Client()
    clerk.force_login(front_desk)

    page = clerk.get(linked.url).content.decode()

    assert "Hello Ana" in page
    assert "Log out" not in page
    assert front_desk.get_username() not in page


def test_a_slot_posted_from_the_page_books_the_visit_as_the_patient(
    linked: Linked,
) -> None:
    client = patient_client()
    response = _post(client, linked, start=FREE_SLOT.isoformat())

    assert response.status_code == 303  # type: ignore[attr-defined]
    visit = linked.visit
    visit.refresh_from_db()
    assert (visit.status, visit.start) == (VisitStatus.BOOKED, FREE_SLOT)
    event = VisitEvent.objects.filter(visit=visit).latest("id")
    assert (event.action, event.actor, event.actor_name) == (
        "booked",
        None,
        "patient (link)",
    )
    page = client.get(response["Location"]).content.decode()  # type: ignore[index]
    assert "Booked. See you then." in page
    assert "Fri 27 Nov 2026, 09:00" in page
    uses = list(BookingLinkUse.objects.values_list("what", flat=True))
    assert LinkUse.BOOKED in uses


def test_a_booked_visit_is_moved_to_another_slot(linked: Linked) -> None:
    client = patient_client()
    _post(client, linked, start=FREE_SLOT.isoformat())

    response = _post(client, linked, start=LATER_SLOT.isoformat())

    assert response.status_code == 303  # type: ignore[attr-defined]
    linked.visit.refresh_from_db()
    assert linked.visit.start == LATER_SLOT
    event = VisitEvent.objects.filter(visit=linked.visit).latest("id")
    assert (event.action, event.actor_name) == ("rescheduled", "patient (link)")


def test_i_cant_come_gives_the_time_up_and_puts_the_visit_on_the_call_list(
    linked: Linked,
) -> None:
    client = patient_client()
    _post(client, linked, start=FREE_SLOT.isoformat())
    # Booked, its window not closing yet: nobody needs to call.
    assert not Visit.objects.call_list(NOW.date()).filter(pk=linked.visit.pk).exists()

    response = _post(client, linked, action="cancel")

    assert response.status_code == 303  # type: ignore[attr-defined]
    linked.visit.refresh_from_db()
    assert (linked.visit.status, linked.visit.start) == (VisitStatus.TO_BOOK, None)
    event = VisitEvent.objects.filter(visit=linked.visit).latest("id")
    assert (event.action, event.reason, event.actor_name) == (
        "unbooked",
        "patient_request",
        "patient (link)",
    )
    # As after a reply X: the desk calls to find a new time.
    assert event.details == {"reason": PATIENT_REQUEST}
    assert Visit.objects.call_list(NOW.date()).filter(pk=linked.visit.pk).exists()


def test_a_booked_time_that_has_passed_cannot_be_given_up_or_moved(
    linked: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = patient_client()
    _post(client, linked, start=FREE_SLOT.isoformat())
    # The next day: nobody has marked the visit seen or missed yet.
    monkeypatch.setattr("clinic.clock.now", lambda: FREE_SLOT + dt.timedelta(days=1))

    page = client.get(linked.url).content.decode()
    gave_up = _post(client, linked, action="cancel")
    moved = _post(client, linked, start=LATER_SLOT.isoformat())

    assert "I can&#x27;t come" not in page and "I can't come" not in page
    assert "Move to another time" not in page
    assert "has passed" in page
    for response in (gave_up, moved):
        assert response.status_code == 409  # type: ignore[attr-defined]
        text = response.content.decode()  # type: ignore[attr-defined]
        assert "has passed, so it can no longer be changed here" in text
    linked.visit.refresh_from_db()
    assert (linked.visit.status, linked.visit.start) == (VisitStatus.BOOKED, FREE_SLOT)


@pytest.mark.parametrize("gave_up", [False, True], ids=["booked", "gave-up"])
def test_the_page_reloaded_after_the_desk_changed_the_visit_says_no_old_news(
    linked: Linked, front_desk: User, gave_up: bool
) -> None:
    client = patient_client()
    done = _post(client, linked, start=FREE_SLOT.isoformat())
    if gave_up:
        done = _post(client, linked, action="cancel")
    # The phone keeps the page it was sent to and reloads it later, after
    # the desk gave the time up for the patient, or booked one.
    surgeon_id = linked.visit.procedure.surgeon_id
    if gave_up:
        services.book_visit(
            visit_id=linked.visit.pk,
            start=LATER_SLOT,
            surgeon_id=surgeon_id,
            actor=front_desk,
            now=NOW,
        )
    else:
        services.unbook_visit(visit_id=linked.visit.pk, actor=front_desk, now=NOW)

    page = client.get(done["Location"]).content.decode()  # type: ignore[index]

    assert "Booked. See you then." not in page
    assert "Your time is given up." not in page
    if gave_up:
        assert "Fri 27 Nov 2026, 10:00" in page
    else:
        assert "No time booked yet" in page


def test_a_slot_taken_meanwhile_is_refused_in_words_with_fresh_slots(
    linked: Linked, world: World, front_desk: User
) -> None:
    client = patient_client()
    token = form_token_of(client, linked.url)
    # While the page is open, the desk gives 09:00 to another of A's patients.
    other = make_link(
        services.book_visit(
            visit_id=world.visit_b.pk,
            start=FREE_SLOT,
            surgeon_id=linked.visit.procedure.surgeon_id,
            actor=front_desk,
            now=NOW,
        ),
    )
    assert other.visit.status == VisitStatus.BOOKED
    events = VisitEvent.objects.filter(visit=linked.visit).count()

    response = client.post(
        linked.url,
        {
            "form_token": token,
            "sequence": str(linked.visit.sequence),
            "start": FREE_SLOT.isoformat(),
        },
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "That time, Fri 27 Nov 2026, 09:00, has just been taken" in page
    assert 'value="2026-11-27T09:00:00+01:00"' not in page
    assert 'value="2026-11-27T09:20:00+01:00"' in page
    linked.visit.refresh_from_db()
    assert linked.visit.status == VisitStatus.TO_BOOK
    assert VisitEvent.objects.filter(visit=linked.visit).count() == events
    assert BookingLinkUse.objects.filter(what=LinkUse.REFUSED).count() == 1


@pytest.mark.parametrize(
    ("start", "said"),
    [
        ("2026-11-27T09:07:00+01:00", "has just been taken or is no longer free"),
        ("2026-11-20T09:00:00+01:00", "has just been taken or is no longer free"),
        ("2026-12-20T09:00:00+01:00", "has just been taken or is no longer free"),
        ("2026-11-27T09:00:00", "That time cannot be booked"),
        ("not a date", "That time cannot be booked"),
        ("2026-11-27T09:00\x00", "That was not understood"),
        ("", "Choose one of the times below"),
    ],
    ids=["off-grid", "past", "outside-window", "no-offset", "malformed", "nul", "none"],
)
def test_a_start_that_is_not_an_offered_slot_changes_nothing(
    linked: Linked, start: str, said: str
) -> None:
    response = _post(patient_client(), linked, start=start)

    assert response.status_code in (400, 409)  # type: ignore[attr-defined]
    assert said in response.content.decode()  # type: ignore[attr-defined]
    linked.visit.refresh_from_db()
    assert (linked.visit.status, linked.visit.start) == (VisitStatus.TO_BOOK, None)


def test_a_replayed_form_changes_nothing(linked: Linked) -> None:
    client = patient_client()
    token = form_token_of(client, linked.url)
    first = {
        "form_token": token,
        "sequence": str(linked.visit.sequence),
        "start": FREE_SLOT.isoformat(),
    }
    client.post(linked.url, first)

    replayed = client.post(linked.url, {**first, "start": LATER_SLOT.isoformat()})

    assert replayed.status_code == 409
    assert "Your visit changed after this page was shown" in replayed.content.decode()
    linked.visit.refresh_from_db()
    assert linked.visit.start == FREE_SLOT


@pytest.mark.parametrize(
    ("asked", "done", "action"),
    [
        ({"start": FREE_SLOT.isoformat()}, "Booked. See you then.", "booked"),
        ({"action": "cancel"}, "Your time is given up.", "unbooked"),
    ],
    ids=["book", "i-cant-come"],
)
def test_a_double_tap_reads_done_and_changes_the_visit_once(
    linked: Linked, asked: dict[str, str], done: str, action: str
) -> None:
    client = patient_client()
    if "action" in asked:
        _post(client, linked, start=FREE_SLOT.isoformat())
    token = form_token_of(client, linked.url)
    linked.visit.refresh_from_db()
    form = {"form_token": token, "sequence": str(linked.visit.sequence), **asked}

    # The phone sends the form twice; it shows the answer to the second.
    first, second = client.post(linked.url, form), client.post(linked.url, form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert second["Location"] == first["Location"]
    page = client.get(second["Location"]).content.decode()
    assert done in page
    assert "nothing was done" not in page
    linked.visit.refresh_from_db()
    booked = action == "booked"
    assert linked.visit.status == (
        VisitStatus.BOOKED if booked else VisitStatus.TO_BOOK
    )
    assert linked.visit.start == (FREE_SLOT if booked else None)
    assert VisitEvent.objects.filter(visit=linked.visit, action=action).count() == 1


class _SignedLongAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - FORM_TOKEN_MAX_AGE - 60)


@pytest.mark.parametrize("mint", ["none", "other_link", "forged", "old"])
def test_a_post_without_this_links_form_token_changes_nothing(
    linked: Linked, world: World, mint: str
) -> None:
    client = patient_client()
    other = make_link(world.visit_b)
    link_id = BookingLink.objects.get(visit=linked.visit).pk
    token = {
        "none": "",
        "other_link": form_token_of(client, other.url),
        "forged": form_token_of(client, linked.url)[:-3] + "abc",
        "old": _SignedLongAgo(salt=FORM_SALT).sign(str(link_id)),
    }[mint]

    response = client.post(
        linked.url, {"form_token": token, "start": FREE_SLOT.isoformat()}
    )

    assert response.status_code == 400
    assert "This page was open too long" in response.content.decode()
    linked.visit.refresh_from_db()
    assert linked.visit.status == VisitStatus.TO_BOOK


def test_an_overdue_visit_is_offered_its_late_slots(
    linked: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    after = dt.datetime(2026, 12, 9, 10, 0, tzinfo=MADRID)  # window closed 5 Dec
    monkeypatch.setattr("clinic.clock.now", lambda: after)
    client = patient_client()
    page = client.get(linked.url).content.decode()
    assert "these are the earliest times" in page
    late = "2026-12-10T09:00:00+01:00"
    assert f'value="{late}"' in page

    response = _post(client, linked, start=late)

    assert response.status_code == 303  # type: ignore[attr-defined]
    linked.visit.refresh_from_db()
    assert linked.visit.late_by_days == 5


def test_an_overdue_visit_is_offered_and_booked_only_its_late_range(
    linked: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    after = dt.datetime(2026, 12, 9, 10, 0, tzinfo=MADRID)  # window closed 5 Dec
    monkeypatch.setattr("clinic.clock.now", lambda: after)
    client = patient_client()
    # As the desk: the earliest free times over the next 30 days, 9 Dec to 7 Jan.
    far = "2027-02-11T09:00:00+01:00"  # a Thursday on the grid, nine weeks on

    page = client.get(linked.url, {"after": far}).content.decode()
    response = _post(client, linked, start=far)

    assert "2027-02-" not in page
    assert "No free time is left online" in page
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "has just been taken or is no longer free" in (
        response.content.decode()  # type: ignore[attr-defined]
    )
    linked.visit.refresh_from_db()
    assert (linked.visit.status, linked.visit.start) == (VisitStatus.TO_BOOK, None)


def test_the_visit_downloads_as_a_calendar_without_the_patients_name(
    linked: Linked, world: World
) -> None:
    _post(patient_client(), linked, start=FREE_SLOT.isoformat())

    response = patient_client().get(f"{linked.url}visit.ics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "DTSTART;TZID=Europe/Madrid:20261127T090000" in body
    assert world.patient_a.family_name not in body
    assert world.patient_a.record_number not in body
    assert BookingLinkUse.objects.filter(what=LinkUse.CALENDAR).count() == 1


def test_a_link_cannot_touch_another_visit(
    linked: Linked, world: World, front_desk: User
) -> None:
    services.book_visit(
        visit_id=world.visit_b.pk,
        start=FREE_SLOT,
        surgeon_id=world.procedure_b.surgeon_id,
        actor=front_desk,
        now=NOW,
    )
    client = patient_client()

    response = _post(client, linked, action="cancel", visit=str(world.visit_b.pk))

    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "This visit is to book; it cannot be unbooked." in (
        response.content.decode()  # type: ignore[attr-defined]
    )
    world.visit_b.refresh_from_db()
    assert (world.visit_b.status, world.visit_b.start) == (
        VisitStatus.BOOKED,
        FREE_SLOT,
    )


def test_other_methods_get_a_405_and_change_nothing(linked: Linked) -> None:
    client = patient_client()
    page, calendar = client.put(linked.url), client.put(f"{linked.url}visit.ics")

    assert (page.status_code, calendar.status_code) == (405, 405)
    assert page["Cache-Control"] == calendar["Cache-Control"] == "no-store"
    # What each does answer: HEAD too, as for any GET.
    assert page["Allow"] == "GET, HEAD, POST"
    assert calendar["Allow"] == "GET, HEAD"
    assert client.head(linked.url).status_code == 200
    assert client.head(f"{linked.url}visit.ics").status_code == 200


def test_later_times_reach_the_end_of_the_window_and_book(linked: Linked) -> None:
    client = patient_client()
    page = client.get(linked.url).content.decode()
    pages = 0
    while (later := re.search(r'href="([^"]+\?after=[^"]+)">Later times', page)) and (
        pages < 20
    ):
        page = client.get(later.group(1).replace("&amp;", "&")).content.decode()
        pages += 1

    assert pages > 0
    assert "Sat 5 Dec 2026" in page or "Fri 4 Dec 2026" in page
    assert "Earliest times" in page
    last = re.findall(r'name="start" value="([^"]+)"', page)[-1]
    response = _post(client, linked, start=last)
    assert response.status_code == 303  # type: ignore[attr-defined]
    linked.visit.refresh_from_db()
    assert linked.visit.start == dt.datetime.fromisoformat(last)


def test_a_later_page_that_is_not_understood_shows_the_soonest(linked: Linked) -> None:
    page = patient_client().get(f"{linked.url}?after=soon").content.decode()

    assert 'value="2026-11-27T09:00:00+01:00"' in page


def test_the_page_reads_a_few_queries_whatever_the_slots(
    linked: Linked, django_assert_max_num_queries: Any
) -> None:
    client = patient_client()
    client.get(linked.url)  # a first view: nothing left to set up

    # The link and its visit, the use recorded, and the slots' three reads.
    with django_assert_max_num_queries(5):
        assert client.get(linked.url).status_code == 200
