"""`GET /api/reports/follow-up/`: the hand-built history's figures, who sees
which rows, the CSV, bad dates, and a constant number of queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import (
    FollowUpRule,
)
from tests.followup.report_history import (
    FREED,
    LINKS_A,
    LINKS_B,
    LINKS_TOTALS,
    MESSAGING_A,
    MESSAGING_B,
    MESSAGING_TOTALS,
    ROW_A,
    ROW_B,
    TOTALS,
    History,
    build_history,
    grow,
)

pytestmark = pytest.mark.django_db

URL = "/api/reports/follow-up/"
RANGE = "?from=2026-10-01&to=2026-10-16"
# Follow-up's figures, then the other apps' in the order they register:
# booking links, messaging, offers (INSTALLED_APPS).
FULL_A = {**ROW_A, **LINKS_A, **MESSAGING_A, **FREED}
FULL_B = {**ROW_B, **LINKS_B, **MESSAGING_B, **FREED}
FULL_TOTALS = {**TOTALS, **LINKS_TOTALS, **MESSAGING_TOTALS, **FREED}


@pytest.fixture
def history(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    return build_history(desk=front_desk, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


def row(surgeon: Surgeon, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule": "postop_control",
        "rule_name": FollowUpRule.objects.get(code="postop_control").name,
        "surgeon": surgeon.pk,
        "surgeon_name": str(surgeon),
        **figures,
    }


def test_the_front_desk_reads_every_figure_of_every_row(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    response = client_for("front_desk").get(URL + RANGE)

    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-10-01",
        "to": "2026-10-16",
        "rows": [row(history.surgeon_a, FULL_A), row(history.surgeon_b, FULL_B)],
        "totals": FULL_TOTALS,
    }


def test_an_admin_reads_every_row(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    body = client_for("clinic_admin").get(URL + RANGE).json()

    assert len(body["rows"]) == 2
    assert body["totals"] == FULL_TOTALS


@pytest.mark.parametrize(
    ("role", "expected"), [("surgeon_a", FULL_A), ("surgeon_b", FULL_B)]
)
def test_a_surgeon_reads_their_own_row_only(
    role: str,
    expected: dict[str, Any],
    history: History,
    client_for: Callable[[str], APIClient],
) -> None:
    surgeon = history.surgeon_a if role == "surgeon_a" else history.surgeon_b

    body = client_for(role).get(URL + RANGE).json()

    assert body["rows"] == [row(surgeon, expected)]
    assert body["totals"] == expected


def test_a_surgeon_asking_for_a_colleague_gets_nothing_more(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    other = history.surgeon_b.pk

    body = client_for("surgeon_a").get(f"{URL}{RANGE}&surgeon={other}").json()

    assert body["rows"] == []
    assert body["totals"]["due"] == 0
    assert body["totals"]["pct_in_window"] is None
    assert body["totals"]["median_days_window_open_to_booking"] is None


def test_the_front_desk_narrows_to_one_surgeon_and_one_rule(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    desk = client_for("front_desk")

    by_surgeon = desk.get(f"{URL}{RANGE}&surgeon={history.surgeon_b.pk}").json()
    by_rule = desk.get(f"{URL}{RANGE}&rule=one_month_control").json()

    assert by_surgeon["rows"] == [row(history.surgeon_b, FULL_B)]
    assert by_surgeon["totals"] == FULL_B
    assert by_rule["rows"] == []


def test_the_window_end_bounds_are_inclusive(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    desk = client_for("front_desk")

    # Every post-op window ends on 16 October.
    on_the_day = desk.get(f"{URL}?from=2026-10-16&to=2026-10-16").json()
    after = desk.get(f"{URL}?from=2026-10-17&to=2026-10-24").json()

    assert on_the_day["totals"] == FULL_TOTALS
    assert after["totals"]["due"] == 0


def test_the_one_month_controls_are_their_own_rows(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    # Windows 25 October - 8 November. Patient 13 moved away (lost: every
    # open visit went); 8 and 15's procedures went (left out); a declined or
    # hand-cancelled post-op control leaves the one-month one to book.
    body = client_for("front_desk").get(f"{URL}?from=2026-11-01&to=2026-11-30").json()

    assert [
        (r["rule"], r["surgeon"], r["due"], r["lost"], r["open"]) for r in body["rows"]
    ] == [
        ("one_month_control", history.surgeon_a.pk, 9, 0, 9),
        ("one_month_control", history.surgeon_b.pk, 7, 1, 6),
    ]


def test_the_csv_gives_the_same_rows_and_the_totals(
    history: History, client_for: Callable[[str], APIClient]
) -> None:
    desk = client_for("front_desk")

    by_suffix = desk.get("/api/reports/follow-up.csv" + RANGE)
    by_format = desk.get(URL + RANGE + "&format=csv")

    assert by_suffix.status_code == 200
    assert by_suffix["Content-Type"].startswith("text/csv")
    assert "follow-up-2026-10-01-to-2026-10-16.csv" in by_suffix["Content-Disposition"]
    assert by_format.content == by_suffix.content
    lines = list(csv.reader(io.StringIO(by_suffix.content.decode())))
    assert lines[0][:4] == ["rule", "rule_name", "surgeon", "surgeon_name"]
    assert lines[1][2:4] == [str(history.surgeon_a.pk), str(history.surgeon_a)]
    assert lines[0][4:] == list(FULL_A)
    assert lines[1][4:] == [cell(v) for v in FULL_A.values()]
    assert lines[3][0] == "total"
    assert lines[3][4:] == [cell(v) for v in FULL_TOTALS.values()]


def cell(value: object) -> str:
    return "" if value is None else str(value)


def test_a_csv_of_nothing_leaves_empty_cells_for_null_figures(
    surgeon_a: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    body = client_for("front_desk").get("/api/reports/follow-up.csv" + RANGE)

    lines = list(csv.reader(io.StringIO(body.content.decode())))
    assert lines[1] == [
        "total",
        "All rules",
        "",
        "All surgeons",
        *["0"] * 5,  # due, completed in window and late, lost, open
        *[""] * 10,  # the rates, their intervals and the median: nothing to measure
        *["0", "", "", ""],  # the bookings, and the patients' share
        *["0", "", "", ""] * 4,  # the messaging counts and rates
        *["0", "0", ""],  # freed slots, refilled, no median
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "from"),
        ("?from=2026-01-01", "to"),
        ("?to=2026-01-01", "from"),
        ("?from=2026-13-01&to=2026-12-31", "from"),
        ("?from=yesterday&to=2026-12-31", "from"),
        ("?from=2026-12-31&to=2026-01-01", "to"),
        ("?from=2000-01-01&to=2026-01-01", "to"),
        ("?from=2026-01-01&to=2026-12-31&rule=nope", "rule"),
        ("?from=2026-01-01&to=2026-12-31&surgeon=0", "surgeon"),
        (f"?from=2026-01-01&to=2026-12-31&surgeon={2**64}", "surgeon"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    query: str, field: str, client_for: Callable[[str], APIClient]
) -> None:
    for url in (URL, "/api/reports/follow-up.csv"):
        response = client_for("front_desk").get(url + query)

        assert response.status_code == 400, response.content
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["detail"]
        assert field in str(body)


def test_a_reversed_range_says_what_is_wrong(
    client_for: Callable[[str], APIClient],
) -> None:
    body = client_for("front_desk").get(f"{URL}?from=2026-12-31&to=2026-01-01").json()

    assert "'to' (2026-01-01) is before 'from' (2026-12-31)." in str(body)


def queries_for(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL + "?from=2026-10-01&to=2026-10-31")
    assert response.status_code == 200
    return len(captured)


def test_the_report_costs_the_same_queries_for_50_and_5000_visits(
    surgeon_a: Surgeon, surgeon_b: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    desk = client_for("front_desk")
    grow(surgeon_a, 25)
    grow(surgeon_b, 25)
    desk.get(URL + "?from=2026-10-01&to=2026-10-31")  # the session, once
    small = queries_for(desk)
    assert (
        desk.get(URL + "?from=2026-10-01&to=2026-10-31").json()["totals"]["due"] == 52
    )

    grow(surgeon_a, 2500)
    grow(surgeon_b, 2450)
    large = queries_for(desk)

    body = desk.get(URL + "?from=2026-10-01&to=2026-10-31").json()
    assert body["totals"]["due"] == 5004
    assert small == large
