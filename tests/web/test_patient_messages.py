"""The patient page lists the patient's messages: what, when, what became of it.

"Now" is Wednesday 25 November 2026, 08:00 in Madrid (tests.followup.world);
a booking on Friday 27 November at 09:00 has its SMS reminder due at 09:00
on Wednesday (tests/messaging).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic.models import Patient, Reminders
from messaging.models import Channel, Kind, Message, MessageTemplate, Status
from messaging.services import send_due_messages
from tests.followup.world import NOW, book, madrid
from tests.messaging.conftest import visit_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


def page(client: Client, patient: Patient) -> str:
    answer: Any = client.get(f"/desk/patients/{patient.pk}/")
    assert answer.status_code == 200
    return str(answer.content.decode())


def section(html: str) -> str:
    start = html.index('<section class="card" id="messages"')
    return html[start : html.index("</section>", start)]


def test_the_desk_sees_the_sent_reminder_and_the_cancelled_invitation(
    client: Client, front_desk: User
) -> None:
    visit = book(visit_of(), actor=front_desk)
    send_due_messages(now=madrid(2026, 11, 25, 9))
    reminder = Message.objects.get(visit=visit, kind=Kind.REMINDER)
    client.force_login(front_desk)

    messages = section(page(client, visit.patient))

    assert "<strong>Reminder</strong> by SMS, Post-operative control" in messages
    assert 'Sent <span class="soft">on 25 Nov 2026, 09:00</span>' in messages
    assert reminder.text in messages
    # The link it carried is a secret: the page says where it was, not what.
    assert "or change it here: [booking link]" in messages
    assert "/p/" not in messages
    assert "<strong>Invitation to book</strong> by SMS" in messages
    assert "No longer due: the visit or the patient&#x27;s consent changed." in messages


def test_a_failed_message_shows_why_in_words(client: Client, front_desk: User) -> None:
    visit = book(visit_of(), actor=front_desk)
    Message.objects.filter(visit=visit, kind=Kind.REMINDER).update(
        status=Status.FAILED,
        error="the number is not a valid phone number (Twilio error 21211)",
    )
    client.force_login(front_desk)

    messages = section(page(client, visit.patient))

    assert "Failed" in messages
    assert "the number is not a valid phone number (Twilio error 21211)" in messages


def test_a_patient_without_consent_has_no_message(
    client: Client, front_desk: User
) -> None:
    visit = book(visit_of(Reminders.NONE), actor=front_desk)
    client.force_login(front_desk)

    messages = section(page(client, visit.patient))

    assert "No message yet. The patient has not agreed to reminders." in messages


def test_a_message_due_in_the_quiet_hours_says_when_it_really_goes(
    client: Client, front_desk: User, settings: SettingsWrapper
) -> None:
    settings.MESSAGE_QUIET_HOURS = "20:00-09:00"
    # An admin's slip: reminders due at 01:24, two days before the visit.
    MessageTemplate.objects.filter(kind=Kind.REMINDER, channel=Channel.SMS).update(
        send_time=dt.time(1, 24)
    )
    visit = book(visit_of(), madrid(2026, 11, 30, 9), actor=front_desk)
    reminder = Message.objects.get(visit=visit, kind=Kind.REMINDER)
    client.force_login(front_desk)

    messages = section(page(client, visit.patient))

    assert (
        'Queued <span class="soft">due 28 Nov 2026, 01:24, '
        "goes 28 Nov 2026, 09:00 (quiet hours)</span>"
    ) in messages
    # What the sender does: nothing at 01:24, the text at nine.
    send_due_messages(now=madrid(2026, 11, 28, 1, 24))
    send_due_messages(now=madrid(2026, 11, 28, 9))
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == (Status.SENT, madrid(2026, 11, 28, 9))


def test_a_message_waiting_to_be_tried_again_says_when(
    client: Client, front_desk: User
) -> None:
    visit = book(visit_of(), actor=front_desk)
    Message.objects.filter(visit=visit, kind=Kind.REMINDER).update(
        attempts=1,
        next_attempt_at=madrid(2026, 11, 25, 9, 1),
        error="Twilio answered 500; trying again later",
    )
    client.force_login(front_desk)

    messages = section(page(client, visit.patient))

    assert (
        'Queued <span class="soft">due 25 Nov 2026, 09:00, '
        "goes 25 Nov 2026, 09:01 (next try)</span>"
    ) in messages
    assert "Twilio answered 500; trying again later" in messages
