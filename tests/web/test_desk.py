"""`/desk/`, the front desk's worklist, through Django's test client: the
buckets and their counts, search and filters, every action as a plain form
and with htmx, refusals that change nothing, and the query count."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.clock import start_of_day
from clinic.models import Surgeon
from followup import services
from followup.models import Visit, VisitStatus
from tests.factories import PatientFactory, SurgeonFactory, make_procedure
from tests.web.desk_data import (
    NOW,
    TODAY,
    DeskCast,
    book_every_visit_of,
    pin_clock,
)

pytestmark = pytest.mark.django_db

NINE = start_of_day(TODAY) + dt.timedelta(hours=9)
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def labels(response: Any) -> list[str]:
    return [item.row.patient_label for item in response.context["items"]]


def counts(response: Any) -> dict[str, int]:
    return {tab.key: tab.count for tab in response.context["tabs"]}


def tab_counts(html: str) -> dict[str, str]:
    """The tabs' counts as a page or a row's out-of-band tabs show them."""
    nav = html[html.index('<nav id="desk-tabs"') :]
    nav = nav[: nav.index("</nav>")]
    found = re.findall(
        r'<a href="[^"]*"[^>]*>([^<]+) <span class="tabs__count">([^<]+)<', nav
    )
    return {label.strip(): count for label, count in found}


def status_of(visit: Visit) -> str:
    visit.refresh_from_db()
    return visit.status


# --- the list ------------------------------------------------------------------


def test_the_worklist_lists_visits_to_book_window_closing_soonest_first(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/")

    assert response.status_code == 200
    assert labels(response) == [
        "Sanz, Pilar · MRN00030",  # post-op, closed 16 Oct
        "Sanz, Pilar · MRN00030",  # one-month, closed 8 Nov
        "Ruiz, Jorge · MRN00020",  # closes 1 Dec
        "García López, María · MRN00012",  # closes 5 Dec
        "Ruiz, Jorge · MRN00020",  # one-month, closes 23 Dec
        "García López, María · MRN00012",  # one-month, closes 27 Dec
    ]
    html = response.content.decode()
    assert "García López, María" in html
    assert "27 Nov 2026" in html and "5 Dec 2026" in html  # the clinic's format
    assert "5 days left" in html
    assert "closed 45 days ago" in html
    assert "Dr. Lucía Moreno" in html


def test_each_bucket_has_its_count_and_lists_only_its_visits(
    desk: Client, desk_cast: DeskCast
) -> None:
    services.book_visit(
        visit_id=desk_cast.visit(desk_cast.maria, "postop_control").pk,
        start=NINE,
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )
    Visit.objects.filter(patient=desk_cast.maria, status=VisitStatus.BOOKED).update(
        needs_rebooking=True
    )

    response = desk.get("/desk/")

    assert counts(response) == {
        "today": 1,
        "all": 6,
        "open": 0,
        "closing": 1,
        "overdue": 2,
        "not_open": 2,
        "rebooking": 1,
        # María's post-op is booked: Pilar's two and Jorge's closing one.
        "call": 3,
        "replies": 0,  # its own page (web.replies), counted here
    }
    assert labels(desk.get("/desk/?tab=overdue")) == ["Sanz, Pilar · MRN00030"] * 2
    assert labels(desk.get("/desk/?tab=closing")) == ["Ruiz, Jorge · MRN00020"]
    assert labels(desk.get("/desk/?tab=not_open")) == [
        "Ruiz, Jorge · MRN00020",
        "García López, María · MRN00012",
    ]
    rebooking = desk.get("/desk/?tab=rebooking")
    assert labels(rebooking) == ["García López, María · MRN00012"]
    assert "Needs rebooking" in rebooking.content.decode()


def test_a_count_past_the_cap_says_so_and_a_page_past_it_counts_exactly(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("followup.models.worklist.COUNT_CAP", 2)

    response = desk.get("/desk/")

    assert counts(response)["all"] == 3  # "more than 2": the count stopped
    assert counts(response)["overdue"] == 2  # exact, at the cap
    html = response.content.decode()
    assert '<span class="tabs__count">2+</span>' in html
    assert '<span class="tabs__count">2</span>' in html
    # A page past what the capped count vouches for counts exactly, and is
    # kept within the pages there are.
    beyond = desk.get("/desk/?page=2").content.decode()
    assert "1\u20136 of 6 visits" in beyond  # an en dash between 1 and 6


def test_the_today_tab_lists_todays_bookings_in_time_order(
    desk: Client, desk_cast: DeskCast
) -> None:
    for patient, hour in ((desk_cast.jorge, 11), (desk_cast.maria, 9)):
        services.book_visit(
            visit_id=desk_cast.visit(patient, "postop_control").pk,
            start=start_of_day(TODAY) + dt.timedelta(hours=hour),
            surgeon_id=desk_cast.surgeon.pk,
            actor=None,
            now=NOW,
        )

    response = desk.get("/desk/?tab=today")

    assert labels(response) == [
        "García López, María · MRN00012",
        "Ruiz, Jorge · MRN00020",
    ]
    html = response.content.decode()
    assert html.count(">Check in<") == 2
    assert "No-show<" not in html  # neither has started yet


def test_search_finds_a_patient_by_record_number_or_by_name(
    desk: Client, desk_cast: DeskCast
) -> None:
    by_number = desk.get("/desk/?q=mrn00012")
    by_name = desk.get("/desk/?q=garcía maría")

    assert set(labels(by_number)) == {"García López, María · MRN00012"}
    assert labels(by_name) == labels(by_number)
    assert counts(by_number)["all"] == 2


@pytest.mark.parametrize(
    "query",
    ["tab=all", "tab=all&sort=-patient", "tab=all&sort=-window", "tab=not_open"],
)
def test_a_search_lists_its_visits_in_the_order_the_tab_shows_them(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    unsearched = labels(desk.get(f"/desk/?{query}"))
    monkeypatch.setattr("web.desk.rows.PAGE_SIZE", 1)
    # Ruiz, García and Sanz: everyone, a visit a page.
    pages = [
        desk.get(f"/desk/?{query}&q=r&page={n}") for n in range(1, len(unsearched) + 1)
    ]

    assert len(unsearched) > 1
    assert [label for page in pages for label in labels(page)] == unsearched
    assert counts(pages[0]) == counts(desk.get(f"/desk/?{query}"))


def test_a_search_matching_too_many_lists_the_first_patients_by_name(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = desk.get("/desk/?q=r")  # Ruiz, García and Sanz (MRN): everyone
    monkeypatch.setattr("followup.models.worklist.SEARCH_IDS_CAP", 2)
    monkeypatch.setattr("web.desk.rows.PATIENTS_SHOWN", 2)

    capped = desk.get("/desk/?q=r")

    # García and Ruiz come first by name; Sanz's visits wait for a narrower
    # search, and the page says how to narrow it.
    assert {label.split(",")[0] for label in labels(everyone)} == {
        "García López",
        "Ruiz",
        "Sanz",
    }
    assert {label.split(",")[0] for label in labels(capped)} == {
        "García López",
        "Ruiz",
    }
    assert "visits of at most 2 patients" in capped.content.decode()


def test_a_common_name_lists_only_the_visits_of_the_patients_it_names(
    desk: Client, desk_cast: DeskCast
) -> None:
    surgeon = desk_cast.surgeon
    for n in range(12):
        patient = PatientFactory.create(
            given_name="Lucía", family_name=f"Moreno {chr(ord('A') + n)}"
        )
        make_procedure(patient=patient, surgeon=surgeon, today=TODAY)

    response = desk.get("/desk/?q=lucia moreno")

    named = {patient.pk for patient in response.context["patients"]}
    listed = {item.row.visit.patient_id for item in response.context["items"]}
    assert len(named) == 10  # the first ten by name, and "more match"
    assert "More than 10 patients match" in response.content.decode()
    assert listed and listed <= named


def test_a_search_lists_the_patient_whose_visits_are_all_booked(
    desk: Client, desk_cast: DeskCast
) -> None:
    book_every_visit_of(desk_cast.maria)

    response = desk.get("/desk/?q=Maria Garcia")

    html = response.content.decode()
    assert labels(response) == []  # nothing left to book
    assert [p.pk for p in response.context["patients"]] == [desk_cast.maria.pk]
    assert f'href="/desk/patients/{desk_cast.maria.pk}/"' in html
    assert "García López, María" in html


def test_a_search_by_phone_or_birth_date_lists_the_patient(
    desk: Client, desk_cast: DeskCast
) -> None:
    services.correct_patient(
        patient_id=desk_cast.jorge.pk, today=TODAY, phone="+34600112233"
    )

    by_phone = desk.get("/desk/", {"q": "+34 600112233"})
    by_birth = desk.get("/desk/", {"q": "17 May 1970"})

    assert [p.pk for p in by_phone.context["patients"]] == [desk_cast.jorge.pk]
    assert 'href="tel:+34600112233"' in by_phone.content.decode()
    # The cast share a birth date (the factory's): all three are listed.
    assert len(by_birth.context["patients"]) == 3


def test_the_call_list_shows_the_phone_as_a_link_to_call(
    desk: Client, desk_cast: DeskCast
) -> None:
    services.correct_patient(
        patient_id=desk_cast.pilar.pk, today=TODAY, phone="+34612345678"
    )

    html = desk.get("/desk/?tab=call").content.decode()

    assert '<a class="phone" href="tel:+34612345678">612 34 56 78</a>' in html


def test_a_search_that_finds_nobody_shows_no_visits_and_empty_tabs(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/?q=nobody-by-this-name")

    assert response.status_code == 200
    assert labels(response) == []
    assert set(counts(response).values()) == {0}
    assert "No patient matches" in response.content.decode()


def test_filters_by_surgeon_and_by_kind(desk: Client, desk_cast: DeskCast) -> None:
    other = desk_cast.other_surgeon.pk
    rule = desk_cast.visit(desk_cast.pilar, "one_month_control").rule_id

    assert labels(desk.get(f"/desk/?surgeon={other}")) == ["Ruiz, Jorge · MRN00020"] * 2
    assert labels(desk.get(f"/desk/?rule={rule}")) == [
        "Sanz, Pilar · MRN00030",
        "Ruiz, Jorge · MRN00020",
        "García López, María · MRN00012",
    ]


@pytest.mark.parametrize("gone", ["unknown", "deactivated"])
def test_a_surgeon_or_kind_the_selects_do_not_offer_is_said_and_left_out(
    desk: Client, desk_cast: DeskCast, gone: str
) -> None:
    # An old bookmark, or an id typed by hand, matched nobody under selects
    # that said "Every surgeon" and "Every kind".
    everyone = labels(desk.get("/desk/"))
    surgeon = desk_cast.other_surgeon
    rule = desk_cast.visit(desk_cast.pilar, "one_month_control").rule
    ids = (999_999, 999_999)
    if gone == "deactivated":
        surgeon.active, rule.active = False, False
        surgeon.save(update_fields=["active"])
        rule.save(update_fields=["active"])
        ids = (surgeon.pk, rule.pk)

    response = desk.get(f"/desk/?surgeon={ids[0]}&rule={ids[1]}")
    export = desk.get(f"/desk/list.csv?surgeon={ids[0]}&rule={ids[1]}")

    assert labels(response) == everyone
    left_out = "Not understood, so left out: surgeon, visit kind."
    assert left_out in response.content.decode()
    assert export.content.decode().count("MRN000") == len(everyone)


def test_sorting_by_patient_marks_only_that_header(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/?sort=-patient")

    assert labels(response)[0] == "Sanz, Pilar · MRN00030"
    html = response.content.decode()
    assert html.count("aria-sort=") == 1
    assert 'aria-sort="descending"' in html


@pytest.mark.parametrize(
    "query",
    [
        "?surgeon=abc&rule=1.5&page=x&tab=nope&sort=zzz",
        "?page=-3",
        "?page=99999999999999999999",
        "?surgeon=999999&q=" + "x" * 500,
        "?open=abc&panel=slots",
        "?open=999999&panel=slots",
    ],
)
def test_bad_query_values_are_ignored_not_a_server_error(
    desk: Client, desk_cast: DeskCast, query: str
) -> None:
    response = desk.get("/desk/" + query)

    assert response.status_code == 200


def test_values_not_understood_are_named(desk: Client, desk_cast: DeskCast) -> None:
    response = desk.get("/desk/?surgeon=abc&tab=nope")

    assert "Not understood, so left out: tab, surgeon." in response.content.decode()
    assert labels(response)  # the whole list, unfiltered


def test_an_htmx_request_for_the_list_gets_only_the_list(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/?tab=overdue", HTTP_HX_TARGET="worklist", **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="worklist"')
    assert "<h1>" not in html
    assert 'hx-swap-oob="innerHTML"' in html  # the live region says what it shows


def test_a_row_opens_its_proposed_slots_without_javascript(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")

    answer = desk.get(f"/desk/visits/{visit.pk}/?tab=open&panel=slots")
    assert answer.status_code == 302
    assert answer["Location"] == (
        f"/desk/?tab=open&open={visit.pk}&panel=slots&slots_surgeon=#visit-{visit.pk}"
    )
    page = desk.get(answer["Location"].split("#")[0]).content.decode()

    assert 'value="2026-11-30T09:00:00+01:00"' in page
    assert "Mon 30 Nov" in page
    # The visit as the clinic names it, capitals kept ("Annual MRI review").
    assert f"Book {visit.kind_label()} for {visit.patient.given_name}" in page


@pytest.mark.parametrize("tab", ["open", "call"])
def test_a_row_s_panel_spans_every_column_and_its_links_target_the_row(
    desk: Client, desk_cast: DeskCast, tab: str
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    page = desk.get(f"/desk/?tab={tab}").content.decode()
    headers = page.count('<th scope="col"')

    row = desk.get(
        f"/desk/visits/{visit.pk}/?tab={tab}&panel=change", **HTMX
    ).content.decode()

    assert headers > 0
    assert f'<td colspan="{headers}">' in row
    # Set once on the row's <tbody>, inherited by its links and forms.
    assert row.count("hx-target=") == 1
    assert 'hx-target="this" hx-swap="outerHTML"' in row


# --- actions -------------------------------------------------------------------


def book(client: Client, visit: Visit, start: str, surgeon: Any, **extra: Any) -> Any:
    return client.post(
        f"/desk/visits/{visit.pk}/book/",
        {"start": start, "surgeon": surgeon, "back": "tab=open&q=garc"},
        **extra,
    )


def test_booking_a_proposed_slot_saves_and_returns_to_the_same_list(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")

    response = book(desk, visit, NINE.isoformat(), desk_cast.surgeon.pk)

    assert response.status_code == 302
    assert response["Location"] == f"/desk/?tab=open&q=garc#visit-{visit.pk}"
    assert status_of(visit) == VisitStatus.BOOKED
    assert visit.start == NINE
    page = desk.get("/desk/?tab=open&q=garc").content.decode()
    assert "Saved. García López, María · MRN00012: Booked for Mon 30 Nov 2026" in page


def test_booking_with_htmx_answers_with_the_row_the_counts_and_saved(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")

    response = book(desk, visit, NINE.isoformat(), desk_cast.surgeon.pk, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tbody id="visit-{visit.pk}"')
    assert "Saved. Booked for Mon 30 Nov 2026, 09:00" in html
    assert '<nav id="desk-tabs"' in html and 'hx-swap-oob="true"' in html
    assert '<div id="announcements" hx-swap-oob="innerHTML">' in html
    assert status_of(visit) == VisitStatus.BOOKED


def test_a_visit_booked_the_day_after_its_window_closed_is_one_day_late(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Jorge's post-op window closed on Tuesday 1 December; it is Wednesday.
    wednesday = start_of_day(dt.date(2026, 12, 2))
    pin_clock(monkeypatch, wednesday + dt.timedelta(hours=8))
    visit = desk_cast.visit(desk_cast.jorge, "postop_control")
    nine = wednesday + dt.timedelta(hours=9)

    response = book(desk, visit, nine.isoformat(), desk_cast.other_surgeon.pk, **HTMX)

    html = response.content.decode()
    assert status_of(visit) == VisitStatus.BOOKED
    assert visit.late_by_days == 1
    assert "Booked for Wed 2 Dec 2026, 09:00 with" in html
    assert "Ortega, 1 day late." in html
    assert "1 days late" not in html


def test_a_stale_booking_with_htmx_answers_with_the_fresh_row_and_counts(
    desk: Client, desk_cast: DeskCast
) -> None:
    # Two clerks had the row open and the other one booked it first: the row
    # came back fresh, "Booked", beside tabs still counting it as to book.
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    shown = visit.sequence
    services.book_visit(
        visit_id=visit.pk,
        start=NINE,
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )
    ten = (NINE + dt.timedelta(hours=1)).isoformat()

    response = desk.post(
        f"/desk/visits/{visit.pk}/book/",
        {
            "start": ten,
            "surgeon": desk_cast.surgeon.pk,
            "back": "tab=open&q=garc",
            "sequence": shown,
        },
        **HTMX,
    )

    html = response.content.decode()
    assert "This visit changed after it was shown" in html
    assert (
        '<nav id="desk-tabs" class="tabs" aria-label="Worklist tabs" hx-swap-oob'
        in html
    )
    fresh = desk.get("/desk/?tab=open&q=garc")
    assert tab_counts(html) == tab_counts(fresh.content.decode())
    # Booked for today by the other clerk: on Today, no longer open.
    assert (tab_counts(html)["Today"], tab_counts(html)["Window open"]) == ("1", "0")
    assert "Saved." not in html


@pytest.mark.parametrize(
    ("start", "surgeon", "message"),
    [
        ("2026-11-30T07:00:00+01:00", "own", "Mon 30 Nov 2026, 07:00 has passed"),
        ("2026-11-30T09:05:00+01:00", "own", ""),  # off the session grid
        ("yesterday", "own", "Choose one of the proposed slots."),
        ("2026-11-30T09:00:00", "own", "Choose one of the proposed slots."),
        ("", "own", "Choose one of the proposed slots."),
        ("2026-11-30T09:00:00+01:00", "abc", "Choose a surgeon for the slot"),
        ("2026-11-30T09:00:00+01:00", "999999", "Choose one of the clinic's surgeons."),
        (
            "2027-03-01T09:00:00+01:00",
            "own",
            "Mon 1 Mar 2027 is outside the visit's window, Fri 27 Nov 2026 to",
        ),
    ],
)
def test_a_refused_booking_shows_the_message_beside_the_row_and_changes_nothing(
    desk: Client, desk_cast: DeskCast, start: str, surgeon: str, message: str
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    surgeon_id = desk_cast.surgeon.pk if surgeon == "own" else surgeon

    response = book(desk, visit, start, surgeon_id)

    assert response.status_code in (400, 409)
    row = next(item for item in response.context["items"] if item.pk == visit.pk)
    assert message in row.error
    assert row.error
    assert 'role="alert"' in response.content.decode()
    assert row.panel == "slots"  # the slots are still there to choose from
    assert status_of(visit) == VisitStatus.TO_BOOK
    assert visit.events.count() == 1  # generation only


def test_a_slot_taken_a_moment_ago_is_refused_with_htmx_too(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    services.book_visit(
        visit_id=desk_cast.visit(desk_cast.pilar, "postop_control").pk,
        start=NINE,
        surgeon_id=desk_cast.surgeon.pk,
        actor=None,
        now=NOW,
    )

    response = book(desk, visit, NINE.isoformat(), desk_cast.surgeon.pk, **HTMX)

    html = response.content.decode()
    # The time asked for, in the clinic's words; never the other visit's id.
    taken = f"That time, Mon 30 Nov 2026, 09:00, is taken: {desk_cast.surgeon}"
    assert f"{taken} already has a visit then. Choose another slot." in html
    assert "(visit " not in html
    assert 'role="alert"' in html
    assert "Saved" not in html
    assert status_of(visit) == VisitStatus.TO_BOOK


def test_an_unknown_visit_is_a_clear_404(desk: Client, desk_cast: DeskCast) -> None:
    response = desk.post(
        "/desk/visits/999999/book/", {"start": NINE.isoformat(), "surgeon": 1}
    )

    assert response.status_code == 404
    assert "Visit 999999 does not exist" in response.content.decode()


def test_an_unknown_visit_with_htmx_is_announced_and_swaps_nothing(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.post("/desk/visits/999999/cancel/", {"reason": "x"}, **HTMX)

    assert response["HX-Reswap"] == "none"
    assert "Visit 999999 does not exist" in response.content.decode()


@pytest.mark.parametrize("action", ["book", "cancel", "check-in", "contact"])
def test_a_get_of_an_action_shows_the_visit_and_changes_nothing(
    desk: Client, desk_cast: DeskCast, action: str
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")

    response = desk.get(f"/desk/visits/{visit.pk}/{action}/", follow=True)

    assert response.redirect_chain == [(f"/desk/visits/{visit.pk}/", 302)]
    assert "Post-operative control for María García López" in (
        response.content.decode()
    )
    assert desk.delete(f"/desk/visits/{visit.pk}/{action}/").status_code == 405
    assert status_of(visit) == VisitStatus.TO_BOOK


def test_cancel_needs_a_reason_and_keeps_what_was_typed(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    url = f"/desk/visits/{visit.pk}/cancel/"

    refused = desk.post(url, {"reason": "   ", "back": "tab=open"})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.content.decode()
    assert status_of(visit) == VisitStatus.TO_BOOK

    too_long = desk.post(url, {"reason": "Moved abroad. " * 50}, **HTMX)
    assert 'value="Moved abroad. Moved abroad.' in too_long.content.decode()
    assert status_of(visit) == VisitStatus.TO_BOOK

    done = desk.post(url, {"reason": "Moved abroad", "back": "tab=open"})
    assert done.status_code == 302
    assert status_of(visit) == VisitStatus.CANCELLED
    assert visit.cancel_reason == "Moved abroad"


def test_unbook_and_reschedule_a_booked_visit(
    desk: Client, desk_cast: DeskCast
) -> None:
    visit = desk_cast.visit(desk_cast.maria, "postop_control")
    book(desk, visit, NINE.isoformat(), desk_cast.surgeon.pk)

    moved = desk.post(
        f"/desk/visits/{visit.pk}/reschedule/",
        {"start": "2026-12-01T10:00:00+01:00", "surgeon": desk_cast.surgeon.pk},
    )
    assert moved.status_code == 302
    visit.refresh_from_db()
    assert visit.start == start_of_day(TODAY) + dt.timedelta(days=1, hours=10)

    again = book(desk, visit, NINE.isoformat(), desk_cast.surgeon.pk)
    assert again.status_code == 409
    assert "Reschedule it to move it to another slot." in again.content.decode()

    assert desk.post(f"/desk/visits/{visit.pk}/unbook/").status_code == 302
    assert status_of(visit) == VisitStatus.TO_BOOK


def test_check_in_on_the_day_and_no_show_once_the_start_has_passed(
    desk: Client, desk_cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = desk_cast.visit(desk_cast.maria, "postop_control")
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    book(desk, maria, NINE.isoformat(), desk_cast.surgeon.pk)
    book(desk, jorge, "2026-12-01T09:00:00+01:00", desk_cast.surgeon.pk)

    early = desk.post(f"/desk/visits/{maria.pk}/no-show/", {"back": "tab=today"})
    assert early.status_code == 409
    assert "only once that time has passed" in early.content.decode()
    tomorrow = desk.post(f"/desk/visits/{jorge.pk}/check-in/")
    assert tomorrow.status_code == 409
    assert "only on the day of their visit" in tomorrow.content.decode()

    assert desk.post(f"/desk/visits/{maria.pk}/check-in/").status_code == 302
    assert status_of(maria) == VisitStatus.CHECKED_IN

    pin_clock(monkeypatch, dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC))
    today = desk.get("/desk/?tab=today").content.decode()
    assert "No-show<" in today
    assert desk.post(f"/desk/visits/{jorge.pk}/no-show/").status_code == 302
    assert status_of(jorge) == VisitStatus.NO_SHOW


def test_a_check_in_with_htmx_puts_the_patient_in_waiting_to_be_completed(
    desk: Client, desk_cast: DeskCast
) -> None:
    # Nobody waits yet: the page keeps an empty place for the list, which
    # the checked-in row's answer fills (out of band), its count with it.
    maria = desk_cast.visit(desk_cast.maria, "postop_control")
    book(desk, maria, NINE.isoformat(), desk_cast.surgeon.pk)
    page = desk.get("/desk/?tab=today").content.decode()
    assert '<div id="waiting" hidden></div>' in page
    assert "Waiting to be completed" not in page

    response = desk.post(
        f"/desk/visits/{maria.pk}/check-in/",
        {"back": "tab=today", "sequence": Visit.objects.get(pk=maria.pk).sequence},
        **HTMX,
    )

    html = re.sub(r"\s+", " ", response.content.decode())
    assert "Saved. Checked in." in html
    waiting = html[html.index('<section id="waiting"') :]
    waiting = waiting[: waiting.index("</section>")]
    assert 'hx-swap-oob="true"' in waiting
    assert 'Waiting to be completed <span class="tabs__count">1</span>' in waiting
    assert "García López, María" in waiting
    assert f'action="/desk/visits/{maria.pk}/complete/"' in waiting


def test_a_surgeon_cannot_act_from_the_desk(
    client: Client, desk_cast: DeskCast, surgeon_a: Surgeon
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]
    visit = desk_cast.visit(desk_cast.maria, "postop_control")

    response = client.post(f"/desk/visits/{visit.pk}/cancel/", {"reason": "not theirs"})

    assert response.status_code == 403
    assert status_of(visit) == VisitStatus.TO_BOOK


# --- queries -------------------------------------------------------------------


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def add_patients(count: int, surgeon: Surgeon) -> None:
    for _ in range(count):
        make_procedure(
            patient=PatientFactory.create(),
            surgeon=surgeon,
            surgery_date=dt.date(2026, 11, 20),
            today=TODAY,
        )


@pytest.mark.parametrize(
    "path",
    ["/desk/", "/desk/?tab=overdue&q=a", "/desk/?tab=today", "/desk/?tab=call"],
)
def test_the_worklist_runs_as_many_queries_for_500_visits_as_for_5(
    desk: Client, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    pin_clock(monkeypatch)
    surgeon = SurgeonFactory.create()
    add_patients(2, surgeon)  # two visits each, plus one booked today below
    first = Visit.objects.filter(rule__code="postop_control").first()
    assert first is not None
    services.book_visit(
        visit_id=first.pk, start=NINE, surgeon_id=surgeon.pk, actor=None, now=NOW
    )
    few = queries_for(desk, path)

    add_patients(248, surgeon)
    assert Visit.objects.count() >= 500
    many = queries_for(desk, path)

    assert few == many
    # One more each for the call list's count, the MRI banner's reviews,
    # Waiting to be completed and the Replies tab's count; a search adds
    # exactly two: the patients it lists by name, and its audit record
    # (clinic.audit, a PatientRead).
    assert many <= 11 + 2 * ("q=" in path)
