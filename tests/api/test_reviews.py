"""The surgeon's upcoming and overdue reviews, as SPEC section 4 defines them.

Today is 2026-11-25 (Madrid); 30 days ahead is 2026-12-25.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import Visit, VisitStatus
from tests.api.conftest import MADRID, postop
from tests.factories import make_procedure

pytestmark = pytest.mark.django_db

S = VisitStatus
D = dt.date


def visit(
    surgeon: Surgeon,
    status: S,
    window: tuple[dt.date, dt.date],
    start: dt.datetime | None = None,
) -> Visit:
    """A visit of a new patient of `surgeon`, with this status and window."""
    item = postop(make_procedure(surgeon=surgeon, surgery_date=D(2026, 11, 2)))
    first, last = window
    fields: dict[str, object] = {
        "status": status,
        "window_start": first,
        "due_date": first,
        "window_end": last,
    }
    if start is not None:
        fields.update(
            start=start, end=start + dt.timedelta(minutes=20), surgeon=surgeon
        )
    Visit.objects.filter(pk=item.pk).update(**fields)
    # The procedure's other visit (its one-month control) would blur the lists.
    Visit.objects.filter(procedure=item.procedure).exclude(pk=item.pk).delete()
    return item


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=MADRID)


def ids(client: APIClient, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def reviews(surgeon_a: Surgeon, surgeon_b: Surgeon) -> dict[str, Visit]:
    window_open = (D(2026, 11, 20), D(2026, 12, 10))
    window_closed = (D(2026, 11, 1), D(2026, 11, 24))
    return {
        "booked tomorrow": visit(surgeon_a, S.BOOKED, window_open, at(D(2026, 11, 26))),
        "booked on the last day": visit(
            surgeon_a, S.BOOKED, (D(2026, 12, 20), D(2026, 12, 30)), at(D(2026, 12, 25))
        ),
        "booked after the period": visit(
            surgeon_a, S.BOOKED, (D(2026, 12, 20), D(2026, 12, 30)), at(D(2026, 12, 26))
        ),
        "checked in today": visit(
            surgeon_a, S.CHECKED_IN, window_open, at(D(2026, 11, 25), 8)
        ),
        "to book, window open": visit(
            surgeon_a, S.TO_BOOK, (D(2026, 12, 1), D(2026, 12, 9))
        ),
        "to book, window closes today": visit(
            surgeon_a, S.TO_BOOK, (D(2026, 11, 10), D(2026, 11, 25))
        ),
        "to book, window opens after the period": visit(
            surgeon_a, S.TO_BOOK, (D(2026, 12, 26), D(2027, 1, 5))
        ),
        "to book, window closed": visit(surgeon_a, S.TO_BOOK, window_closed),
        "no-show, window open": visit(
            surgeon_a, S.NO_SHOW, window_open, at(D(2026, 11, 23))
        ),
        "no-show, window closed": visit(
            surgeon_a, S.NO_SHOW, window_closed, at(D(2026, 11, 20))
        ),
        "booked, window closed": visit(
            surgeon_a, S.BOOKED, window_closed, at(D(2026, 11, 24))
        ),
        "cancelled, window open": visit(surgeon_a, S.CANCELLED, window_open),
        "cancelled, window closed": visit(surgeon_a, S.CANCELLED, window_closed),
        "completed": visit(
            surgeon_a, S.COMPLETED, window_open, at(D(2026, 11, 24), 10)
        ),
        "other surgeon, to book": visit(surgeon_b, S.TO_BOOK, window_open),
        "other surgeon, overdue": visit(surgeon_b, S.TO_BOOK, window_closed),
    }


def test_upcoming_lists_booked_visits_ahead_and_visits_to_book_soonest_first(
    reviews: dict[str, Visit], client_for: Callable[[str], APIClient]
) -> None:
    seen = ids(client_for("surgeon_a"), "/api/reviews/upcoming/")

    expected = [
        "to book, window closes today",  # due 10 Nov
        "no-show, window open",  # due 20 Nov
        "checked in today",
        "booked tomorrow",
        "to book, window open",  # due 1 Dec
        "booked on the last day",
    ]
    assert seen == [reviews[name].pk for name in expected]


def test_upcoming_first_holds_the_first_of_upcoming_however_many_are_asked(
    reviews: dict[str, Visit], surgeon_a: Surgeon
) -> None:
    today = D(2026, 11, 25)
    mine = Visit.objects.of_surgeon(surgeon_a.pk)
    whole = list(mine.upcoming(today, 30).values_list("pk", flat=True))

    for first in range(1, len(whole) + 2):
        chosen = mine.upcoming_first(today, 30, first)
        listed = Visit.objects.filter(pk__in=chosen).upcoming(today, 30)[:first]
        assert list(listed.values_list("pk", flat=True)) == whole[:first]


def test_upcoming_looks_as_far_ahead_as_asked(
    reviews: dict[str, Visit], client_for: Callable[[str], APIClient]
) -> None:
    seen = ids(client_for("surgeon_a"), "/api/reviews/upcoming/?days=1")

    assert reviews["booked tomorrow"].pk in seen
    assert reviews["to book, window open"].pk not in seen
    assert reviews["booked on the last day"].pk not in seen


def test_overdue_lists_closed_windows_still_to_book_or_no_show(
    reviews: dict[str, Visit], client_for: Callable[[str], APIClient]
) -> None:
    seen = ids(client_for("surgeon_a"), "/api/reviews/overdue/")

    assert sorted(seen) == sorted(
        reviews[name].pk
        for name in ("to book, window closed", "no-show, window closed")
    )


def test_the_desk_sees_every_surgeon_or_narrows_to_one(
    reviews: dict[str, Visit],
    surgeon_b: Surgeon,
    client_for: Callable[[str], APIClient],
) -> None:
    desk = client_for("front_desk")

    everyone = ids(desk, "/api/reviews/overdue/")
    only_b = ids(desk, f"/api/reviews/overdue/?surgeon={surgeon_b.pk}")

    assert reviews["other surgeon, overdue"].pk in everyone
    assert reviews["to book, window closed"].pk in everyone
    assert only_b == [reviews["other surgeon, overdue"].pk]


def test_a_surgeon_cannot_widen_their_reviews_to_another_surgeon(
    reviews: dict[str, Visit],
    surgeon_b: Surgeon,
    client_for: Callable[[str], APIClient],
) -> None:
    seen = ids(
        client_for("surgeon_a"), f"/api/reviews/upcoming/?surgeon={surgeon_b.pk}"
    )

    assert seen == []


def test_a_review_row_carries_the_visit_kind_mri_flag_and_status(
    reviews: dict[str, Visit], client_for: Callable[[str], APIClient]
) -> None:
    row = client_for("surgeon_a").get("/api/reviews/upcoming/").json()["results"][0]

    assert row["rule"] == "postop_control"
    assert row["rule_name"]
    assert row["requires_mri"] is False
    assert row["status"] == "to_book"
    assert row["fhir_status"] == "proposed"


def test_the_overdue_filter_of_the_visit_list_matches_the_overdue_review(
    reviews: dict[str, Visit], client_for: Callable[[str], APIClient]
) -> None:
    client = client_for("surgeon_a")

    listed = ids(client, "/api/visits/?overdue=true")
    not_overdue = ids(client, "/api/visits/?overdue=false&page_size=500")

    assert sorted(listed) == sorted(ids(client, "/api/reviews/overdue/"))
    assert not set(listed) & set(not_overdue)


def test_a_visit_completed_today_has_left_the_upcoming_list(
    surgeon_a: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    window = (D(2026, 11, 20), D(2026, 12, 10))
    seen = visit(surgeon_a, S.COMPLETED, window, at(D(2026, 11, 25), 9))
    waiting = visit(surgeon_a, S.CHECKED_IN, window, at(D(2026, 11, 25), 11))

    listed = ids(client_for("surgeon_a"), "/api/reviews/upcoming/")

    assert waiting.pk in listed
    assert seen.pk not in listed
