"""The messages' API: a visit's and a patient's messages, the visit's
confirmation, and the front desk's replies and their resolution.

World: tests/messaging/conftest.py; a reminder sent on Wed 25 Nov at 09:00.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import Visit
from messaging.models import Message
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from tests.followup.world import FRIDAY_9, book, madrid, postop
from tests.messaging.conftest import MOBILE, Clock, patient

pytestmark = [pytest.mark.postgres]
NINE = madrid(2026, 11, 25, 9)
TEN = madrid(2026, 11, 25, 10)


@pytest.fixture
def client_as(
    front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon
) -> Callable[[str], APIClient]:
    users = {
        "front_desk": front_desk,
        "surgeon_a": surgeon_a.user,
        "surgeon_b": surgeon_b.user,
    }

    def make(role: str) -> APIClient:
        client = APIClient()
        user = users[role]
        assert user is not None
        client.force_login(user)
        return client

    return make


@pytest.fixture
def reminded(desk: User, pinned: Clock, surgeon_a: Surgeon) -> Visit:
    """Surgeon A's patient's visit booked on Friday 09:00, its reminder sent;
    the clock at 10:00."""
    visit = book(postop(surgeon=surgeon_a, patient=patient()), FRIDAY_9, actor=desk)
    send_due_messages(now=NINE)
    pinned.moment = TEN
    return visit


def text(body: str, sid: str, number: str = MOBILE) -> Message:
    return receive_sms(number=number, body=body, sid=sid, now=TEN)


@pytest.mark.django_db
def test_a_visit_says_whether_and_when_the_patient_confirmed(
    reminded: Visit, client_as: Callable[[str], APIClient]
) -> None:
    desk = client_as("front_desk")
    assert desk.get(f"/api/visits/{reminded.pk}/").json()["confirmed"] is False

    text("C", "SM1")

    body = desk.get(f"/api/visits/{reminded.pk}/").json()
    assert (body["confirmed"], body["confirmed_at"]) == (
        True,
        "2026-11-25T10:00:00+01:00",
    )


@pytest.mark.django_db
def test_a_visits_messages_list_its_reminder_and_the_reply(
    reminded: Visit, client_as: Callable[[str], APIClient]
) -> None:
    text("R", "SM1")

    body = client_as("front_desk").get(f"/api/visits/{reminded.pk}/messages/").json()

    assert [
        (m["direction"], m["kind"], m["status"], m["intent"]) for m in body["results"]
    ] == [
        ("out", "reply", "queued", ""),  # the booking link, sent back
        ("in", "reply", "received", "change"),
        ("out", "reminder", "sent", ""),
        # Written when the visit was planned, cancelled when it was booked.
        ("out", "overdue", "cancelled", ""),
        ("out", "invitation", "cancelled", ""),
    ]
    assert body["results"][1]["answers"] == body["results"][2]["id"]


@pytest.mark.django_db
def test_a_text_queued_at_night_says_when_the_sender_will_send_it(
    reminded: Visit, client_as: Callable[[str], APIClient], pinned: Clock
) -> None:
    night, morning = madrid(2026, 11, 25, 22), madrid(2026, 11, 26, 9)
    pinned.moment = night
    receive_sms(number=MOBILE, body="R", sid="SM1", now=night)
    url = f"/api/visits/{reminded.pk}/messages/"

    rows = client_as("front_desk").get(url).json()["results"]

    # The booking link sent back: due when the patient asked, held for the
    # morning; the reminder already sent waits for nothing.
    link, reminder = rows[0], rows[2]
    assert (link["kind"], link["status"]) == ("reply", "queued")
    assert link["scheduled_for"] == "2026-11-25T22:00:00+01:00"
    assert link["sends_at"] == "2026-11-26T09:00:00+01:00"
    assert (reminder["kind"], reminder["sends_at"]) == ("reminder", None)
    # The sender agrees: nothing in the night, the text at nine.
    assert send_due_messages(now=night).sent == 0
    assert send_due_messages(now=morning).sent == 1
    assert Message.objects.get(pk=link["id"]).sent_at == morning


@pytest.mark.django_db
def test_a_patients_messages_are_read_by_their_surgeon_not_another(
    reminded: Visit, client_as: Callable[[str], APIClient]
) -> None:
    url = f"/api/patients/{reminded.patient_id}/messages/"

    mine = client_as("surgeon_a").get(url)
    theirs = client_as("surgeon_b").get(url)

    assert mine.status_code == 200
    rows = mine.json()["results"]
    assert rows[0]["kind"] == "reminder"  # the one sent, before those never sent
    assert {m["patient"] for m in rows} == {reminded.patient_id}
    assert theirs.status_code == 404
    visit_url = f"/api/visits/{reminded.pk}/messages/"
    assert client_as("surgeon_b").get(visit_url).status_code == 404


@pytest.mark.django_db
def test_the_open_replies_are_change_requests_unclear_texts_and_failures(
    reminded: Visit, client_as: Callable[[str], APIClient]
) -> None:
    change = text("R", "SM1")
    text("C", "SM2")  # confirmed: nobody needs to act
    unmatched = text("hola", "SM3", number="+34699999999")
    Message.objects.filter(kind="reminder").update(status="failed", error="x")
    desk = client_as("front_desk")

    with CaptureQueriesContext(connection) as queries:
        body = desk.get("/api/replies/?open=true").json()

    reminder = Message.objects.get(kind="reminder")
    assert [m["id"] for m in body["results"]] == [unmatched.pk, change.pk, reminder.pk]
    assert len(queries) <= 12  # session, user, groups, the page and its count, audit


@pytest.mark.django_db
def test_resolving_a_reply_takes_it_off_the_open_list_once(
    reminded: Visit, client_as: Callable[[str], APIClient], front_desk: User
) -> None:
    change = text("R", "SM1")
    desk = client_as("front_desk")

    first = desk.post(f"/api/replies/{change.pk}/resolve/")
    again = desk.post(f"/api/replies/{change.pk}/resolve/")

    assert first.status_code == 200
    assert (first.json()["resolved_at"], first.json()["resolved_by"]) == (
        "2026-11-25T10:00:00+01:00",
        front_desk.username,
    )
    assert desk.get("/api/replies/?open=true").json()["results"] == []
    assert [
        m["id"] for m in desk.get("/api/replies/?open=false").json()["results"]
    ] == [change.pk]
    assert again.status_code == 409
    assert again.json()["code"] == "already_resolved"
    assert front_desk.username in again.json()["detail"]


@pytest.mark.django_db
def test_a_message_that_needs_nobody_cannot_be_resolved(
    reminded: Visit, client_as: Callable[[str], APIClient]
) -> None:
    confirmed = text("C", "SM1")

    response = client_as("front_desk").post(f"/api/replies/{confirmed.pk}/resolve/")

    assert response.status_code == 404
    assert Message.objects.get(pk=confirmed.pk).resolved_at is None


@pytest.mark.django_db
def test_an_unreadable_open_filter_is_a_400(
    client_as: Callable[[str], APIClient],
) -> None:
    response = client_as("front_desk").get("/api/replies/?open=perhaps")

    assert response.status_code == 400
    assert "open" in response.json()["detail"] or response.json()["errors"]
