"""`GET, POST /api/visits/{id}/contact-attempts/`: who may, what it answers,
and bad input refused with a message a clerk can act on, never a 500.

The roles table (test_roles.py) tries both methods with every role; here
are the answers themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from followup.models import CancelReason, ContactAttempt, Visit, VisitStatus
from tests.api.conftest import NOW, World, put_in_state

pytestmark = pytest.mark.django_db


def url(world: World) -> str:
    return f"/api/visits/{world.visit_a.pk}/contact-attempts/"


def test_the_desk_records_an_attempt_and_the_patients_surgeon_reads_it_note_included(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    posted = client_for("front_desk").post(
        url(world),
        {
            "channel": "phone",
            "outcome": "call_back_later",
            "call_back_on": "2026-11-30",
            "note": "Daughter answers; call after 17:00",
        },
        format="json",
    )

    assert posted.status_code == 201, posted.content
    assert posted.json() | {"id": 0} == {
        "id": 0,
        "visit": world.visit_a.pk,
        "at": "2026-11-25T10:00:00+01:00",
        "actor": "desk",
        "channel": "phone",
        "outcome": "call_back_later",
        "note": "Daughter answers; call after 17:00",
        "call_back_on": "2026-11-30",
    }
    read = client_for("surgeon_a").get(url(world))
    assert read.status_code == 200
    assert [a["note"] for a in read.json()] == ["Daughter answers; call after 17:00"]
    assert client_for("surgeon_b").get(url(world)).status_code == 404


def test_declined_through_the_api_cancels_the_visit(
    world: World, desk: APIClient
) -> None:
    response = desk.post(
        url(world), {"channel": "letter", "outcome": "declined"}, format="json"
    )

    assert response.status_code == 201
    visit = Visit.objects.get(pk=world.visit_a.pk)
    assert (visit.status, visit.cancelled_by) == (
        VisitStatus.CANCELLED,
        CancelReason.DECLINED,
    )
    again = desk.post(
        url(world), {"channel": "phone", "outcome": "no_answer"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "visit_not_open"


# (name, body, code, words in the detail)
BAD_BODIES = [
    (
        "unknown channel",
        {"channel": "fax", "outcome": "no_answer"},
        "invalid",
        'channel: Unknown channel "fax"; use one of: phone, sms, email, letter, '
        "in_person.",
    ),
    (
        "unknown outcome",
        {"channel": "phone", "outcome": "busy"},
        "invalid",
        'outcome: Unknown outcome "busy"; use one of: no_answer,',
    ),
    (
        "no outcome",
        {"channel": "phone"},
        "invalid",
        "outcome: This field is required.",
    ),
    (
        "call back later without a date",
        {"channel": "phone", "outcome": "call_back_later"},
        "call_back_date_required",
        "call_back_later needs call_back_on",
    ),
    (
        "call back later today",
        {
            "channel": "phone",
            "outcome": "call_back_later",
            "call_back_on": "2026-11-25",
        },
        "call_back_date_not_future",
        "call_back_on 2026-11-25 is not after today (2026-11-25)",
    ),
    (
        "call back later in the past",
        {
            "channel": "phone",
            "outcome": "call_back_later",
            "call_back_on": "2026-10-01",
        },
        "call_back_date_not_future",
        "call_back_on 2026-10-01 is not after today",
    ),
    (
        "a call-back date that is no date",
        {"channel": "phone", "outcome": "call_back_later", "call_back_on": "30/11"},
        "invalid",
        "call_back_on: Date has wrong format",
    ),
    (
        "a call-back date with another outcome",
        {"channel": "phone", "outcome": "will_book", "call_back_on": "2026-11-30"},
        "call_back_not_expected",
        "call_back_on goes only with the outcome call_back_later.",
    ),
    (
        "a note too long",
        {"channel": "phone", "outcome": "no_answer", "note": "x" * 2001},
        "invalid",
        "note: Ensure this field has no more than 2000 characters.",
    ),
    ("a list, not an object", ["phone"], "invalid", "Invalid data."),
]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [pytest.param(b, c, w, id=name) for name, b, c, w in BAD_BODIES],
)
def test_bad_input_is_a_400_with_a_clear_message_and_writes_nothing(
    body: Any, code: str, words: str, world: World, desk: APIClient
) -> None:
    response = desk.post(url(world), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert words in response.json()["detail"]
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/visits/99999999999999999999999/contact-attempts/",
        "/api/visits/987654/contact-attempts/",
        "/api/visits/0/contact-attempts/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_or_huge_visit_id_is_a_404(
    path: str, method: str, world: World, desk: APIClient
) -> None:
    response = getattr(desk, method)(
        path, {"channel": "phone", "outcome": "no_answer"}, format="json"
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"} or (
        response.json()["code"] == "not_found"
    )


def test_a_completed_visit_takes_no_attempt(world: World, desk: APIClient) -> None:
    put_in_state(world.visit_a, VisitStatus.COMPLETED, start=NOW)

    response = desk.post(
        url(world), {"channel": "phone", "outcome": "no_answer"}, format="json"
    )

    assert response.status_code == 409
    assert (
        "contact attempts are recorded for visits still to be seen"
        in (response.json()["detail"])
    )
