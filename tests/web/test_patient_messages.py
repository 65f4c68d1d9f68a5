"""The patient page lists the patient's messages: what, when, what became of it.

"Now" is Wednesday 25 November 2026, 08:00 in Madrid (tests.followup.world);
a booking on Friday 27 November at 09:00 has its SMS reminder due at 09:00
on Wednesday (tests/messaging).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import Patient, Reminders
from messaging.models import Kind, Message, Status
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
