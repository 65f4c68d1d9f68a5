"""What a recall desk expects of the worklist: a due-date range, the last
contact and the number of attempts on every row, one-click outcomes on the
call list, a print stylesheet and a CSV of any list.

The cast and the clock are `tests.web.desk_data`'s: Monday 30 November 2026.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit
from tests.web.desk_data import NOW, DeskCast, make_cast, pin_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


@pytest.fixture
def desk(client: Client, front_desk: User) -> Client:
    client.force_login(front_desk)
    return client


def labels(response: Any) -> list[str]:
    return [item.row.patient_label for item in response.context["items"]]


def row_html(response: Any, visit: Visit) -> str:
    html = response.content.decode()
    start = html.index(f'id="visit-{visit.pk}"')
    return html[start : html.index("</tbody>", start)]


def attempt(visit: Visit, outcome: ContactOutcome, *, days_ago: int) -> None:
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=outcome,
        actor=None,
        now=NOW - dt.timedelta(days=days_ago),
    )


# --- the due-date range ----------------------------------------------------------


def test_the_due_date_range_keeps_the_visits_due_in_it_on_every_tab(
    desk: Client, desk_cast: DeskCast
) -> None:
    response = desk.get("/desk/?due_from=2026-11-26&due_to=2026-12-16")

    assert labels(response) == [
        "Ruiz, Jorge · MRN00020",  # post-op, due 26 Nov
        "García López, María · MRN00012",  # post-op, due 30 Nov
        "Ruiz, Jorge · MRN00020",  # one-month, due 16 Dec
    ]
    tabs = {tab.key: tab.count for tab in response.context["tabs"]}
    assert tabs["all"] == 3
    assert tabs["overdue"] == 0  # Pilar's are due in October and November
    html = response.content.decode()
    assert 'value="2026-11-26"' in html and 'value="2026-12-16"' in html
    assert "due from Thu 26 Nov 2026 to Wed 16 Dec 2026" in html
    # Every link of the list keeps the range.
    assert "due_from=2026-11-26&amp;due_to=2026-12-16" in html


def test_either_end_of_the_range_may_be_left_open(
    desk: Client, desk_cast: DeskCast
) -> None:
    assert labels(desk.get("/desk/?due_to=2026-11-01")) == [
        "Sanz, Pilar · MRN00030",
        "Sanz, Pilar · MRN00030",
    ]
    assert labels(desk.get("/desk/?due_from=2026-12-20")) == [
        "García López, María · MRN00012"
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("due_from=2026-13-01", "due_from"),
        ("due_to=tomorrow", "due_to"),
        ("due_from=2026-12-20&due_to=2026-12-01", "due_to (before due_from)"),
    ],
)
def test_a_range_not_understood_is_named_and_left_out(
    desk: Client, desk_cast: DeskCast, query: str, named: str
) -> None:
    response = desk.get(f"/desk/?{query}")

    assert response.status_code == 200
    assert f"Not understood, so left out: {named}." in response.content.decode()
    if "due_from=2026-12-20" in query:
        assert labels(response) == ["García López, María · MRN00012"]
    else:
        assert len(labels(response)) == 6


# --- the last contact on every row ---------------------------------------------------


def test_every_row_shows_its_last_contact_and_the_number_of_attempts(
    desk: Client, desk_cast: DeskCast
) -> None:
    maria = desk_cast.visit(desk_cast.maria, "one_month_control")
    attempt(maria, ContactOutcome.NO_ANSWER, days_ago=3)
    attempt(maria, ContactOutcome.LEFT_MESSAGE, days_ago=1)

    for tab in ("all", "not_open"):
        row = row_html(desk.get(f"/desk/?tab={tab}"), maria)
        assert "Left a message" in row
        assert "Sun 29 Nov, 08:00" in row
        assert "2 attempts" in row
    untried = desk_cast.visit(desk_cast.jorge, "one_month_control")
    assert "Not tried yet" in row_html(desk.get("/desk/"), untried)


# --- one-click outcomes on the call list ----------------------------------------------


def test_the_call_list_offers_three_one_click_outcomes_and_other_tabs_none(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")

    row = row_html(desk.get("/desk/?tab=call"), jorge)

    for outcome in ("no_answer", "left_message", "wrong_number"):
        assert f'name="outcome" value="{outcome}"' in row
    for ending in ("declined", "moved_away", "deceased", "call_back_later"):
        assert f'name="outcome" value="{ending}"' not in row
    assert 'name="outcome" value=' not in row_html(desk.get("/desk/"), jorge)


def test_one_click_records_a_phone_call_and_returns_to_the_call_list(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")

    response = desk.post(
        f"/desk/visits/{jorge.pk}/contact/",
        {"back": "tab=call", "channel": "phone", "outcome": "no_answer"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/desk/?tab=call#visit-{jorge.pk}"
    (recorded,) = jorge.contact_attempts.all()
    assert (recorded.channel, recorded.outcome, recorded.note) == (
        "phone",
        "no_answer",
        "",
    )
    page = desk.get(response["Location"])
    assert "Phone attempt recorded: no answer." in page.content.decode()
    assert "1 attempt" in row_html(page, jorge)


def test_one_click_with_htmx_answers_with_the_row_its_new_count_and_saved(
    desk: Client, desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    attempt(jorge, ContactOutcome.NO_ANSWER, days_ago=2)

    response = desk.post(
        f"/desk/visits/{jorge.pk}/contact/",
        {"back": "tab=call", "channel": "phone", "outcome": "left_message"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tbody id="visit-{jorge.pk}"')
    assert "Saved. Phone attempt recorded: left a message." in html
    assert "2 attempts" in html and "Left a message" in html
    assert 'name="outcome" value="wrong_number"' in html  # still on the call list
