"""`/reports/`: the hand-built history's figures in the table, who sees which
rows, the charts, the CSV link, and bad dates answered with the form."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Surgeon
from tests.followup.report_history import (
    ROW_A,
    ROW_B,
    TOTALS,
    History,
    build_history,
    grow,
)

pytestmark = pytest.mark.django_db

RANGE = "/reports/?start=2026-10-01&end=2026-10-16"


class TableCells(HTMLParser):
    """The text of every cell of the `figures` table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "figures") in attrs:
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif self._in_table and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(html: str) -> list[list[str]]:
    parser = TableCells()
    parser.feed(html)
    return parser.rows[1:]  # the header row first


def shown(figures: dict[str, Any]) -> list[str]:
    """The figures as the table writes them: a rate with its 95 % interval
    under it, in words."""
    out = []
    for name, value in figures.items():
        if name.endswith(("_ci_low", "_ci_high")):
            continue
        if value is None:
            out.append("\u2013")  # an en dash: no figure
        elif name.startswith("pct_"):
            low, high = figures[f"{name}_ci_low"], figures[f"{name}_ci_high"]
            out.append(f"{value}% likely {low}\u2013{high}%")
        else:
            out.append(str(value))
    return out


@pytest.fixture
def history(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    return build_history(desk=front_desk, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


def client_of(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_front_desk_reads_every_figure_in_the_table(
    history: History, front_desk: User
) -> None:
    response = client_of(front_desk).get(RANGE)

    assert response.status_code == 200
    assert cells(response.content.decode()) == [
        ["Post-operative control", str(history.surgeon_a), *shown(ROW_A)],
        ["Post-operative control", str(history.surgeon_b), *shown(ROW_B)],
        ["Total", "", *shown(TOTALS)],
    ]


def test_the_charts_are_svg_images_with_the_numbers_in_words(
    history: History, clinic_admin: User
) -> None:
    html = client_of(clinic_admin).get(RANGE).content.decode()

    assert html.count('role="img"') == 2
    assert (
        "Post-operative control: 16 due; seen in window 6, seen late 1, lost 4, open 5."
        in html
    )
    assert f"{history.surgeon_a}: 30.0% seen in window." in html
    assert f"{history.surgeon_b}: 50.0% seen in window." in html
    assert "<script" not in html.split("</head>")[1]


def test_the_csv_link_carries_the_filters(history: History, front_desk: User) -> None:
    html = (
        client_of(front_desk)
        .get(f"{RANGE}&rule=postop_control&surgeon={history.surgeon_b.pk}")
        .content.decode()
    )

    link = re.search(r'href="(/api/reports/follow-up\.csv[^"]*)"', html)
    assert link is not None
    assert link.group(1).replace("&amp;", "&") == (
        "/api/reports/follow-up.csv?from=2026-10-01&to=2026-10-16"
        f"&rule=postop_control&surgeon={history.surgeon_b.pk}"
    )
    assert cells(html) == [
        ["Post-operative control", str(history.surgeon_b), *shown(ROW_B)],
        ["Total", "", *shown(ROW_B)],
    ]


@pytest.mark.parametrize(("role", "expected"), [("a", ROW_A), ("b", ROW_B)])
def test_a_surgeon_sees_their_own_row_only(
    role: str, expected: dict[str, Any], history: History
) -> None:
    surgeon = history.surgeon_a if role == "a" else history.surgeon_b

    html = client_of(surgeon.user).get(RANGE).content.decode()

    assert cells(html) == [
        ["Post-operative control", str(surgeon), *shown(expected)],
        ["Total", "", *shown(expected)],
    ]
    assert 'name="surgeon"' not in html


def test_a_surgeon_asking_for_a_colleague_gets_nothing_more(history: History) -> None:
    client = client_of(history.surgeon_a.user)

    response = client.get(f"{RANGE}&surgeon={history.surgeon_b.pk}")

    # Their own surgeon is the only choice: another is refused, showing nothing.
    assert response.status_code == 400
    assert cells(response.content.decode()) == []
    assert "valid choice" in response.content.decode()


def test_the_default_is_the_last_twelve_months(
    front_desk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    monkeypatch.setattr("clinic.clock.today", lambda: dt.date(2026, 11, 25))

    html = client_of(front_desk).get("/reports/").content.decode()

    assert 'value="2025-11-26"' in html
    assert 'value="2026-11-25"' in html
    assert "26 Nov 2025 to 25 Nov 2026" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?start=2026-12-31&end=2026-01-01", "is before the start"),
        ("?start=2000-01-01&end=2026-01-01", "at most 5 years"),
        ("?start=nonsense&end=2026-01-01", "Enter a valid date"),
        (
            "?start=2026-01-01&end=2026-12-31&surgeon=999999999999999999999",
            "valid choice",
        ),
        ("?start=2026-01-01&end=2026-12-31&rule=nope", "valid choice"),
    ],
)
def test_bad_input_is_a_400_with_the_form(
    query: str, message: str, front_desk: User
) -> None:
    response = client_of(front_desk).get("/reports/" + query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_anonymous_is_sent_to_log_in(db: None) -> None:
    response = Client().get("/reports/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/reports/")


def test_someone_without_a_clinic_role_is_refused(db: None) -> None:
    from tests.factories import UserFactory

    response = client_of(UserFactory.create(username="nobody")).get("/reports/")

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["front_desk", "clinic_admin", "surgeon"])
def test_the_nav_links_the_page(
    role: str, front_desk: User, clinic_admin: User, surgeon_a: Surgeon
) -> None:
    user = {"front_desk": front_desk, "clinic_admin": clinic_admin}.get(role)
    html = client_of(user or surgeon_a.user).get("/reports/").content.decode()

    assert '<a href="/reports/" aria-current="page">Figures</a>' in html


def test_the_page_costs_the_same_queries_for_50_and_5000_visits(
    front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(front_desk)
    url = "/reports/?start=2026-10-01&end=2026-10-31"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    grow(surgeon_a, 25)
    grow(surgeon_b, 25)
    small = queries()
    grow(surgeon_a, 2500)
    grow(surgeon_b, 2450)
    large = queries()

    assert small == large
