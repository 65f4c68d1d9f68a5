"""The providers for real, on loopback: email through an SMTP server
(aiosmtpd) that reads what it received, SMS through a stand-in answering as
Twilio's Messages API does. Nothing outside the machine is called.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings as SettingsWrapper

from booking_links.services import link_url_for
from clinic.models import Patient, Reminders
from followup.models import Visit
from messaging import providers
from messaging.models import Kind, Message, Status
from messaging.schedule import with_link
from messaging.services import send_due_messages
from tests.followup.world import book, madrid
from tests.messaging import stand_ins
from tests.messaging.conftest import (
    MOBILE,
    SID,
    messages,
    send_texts_through_twilio_at,
    visit_of,
)
from tests.processes import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
NINE = madrid(2026, 11, 25, 9)


def with_phone(number: str) -> Visit:
    visit = visit_of()
    Patient.objects.filter(pk=visit.patient_id).update(phone=number)
    Message.objects.filter(visit=visit).update(to=number)
    return visit


def reminder_of(visit: Visit) -> Message:
    [reminder] = messages(visit, kind=Kind.REMINDER)
    return reminder


def test_an_email_reminder_reaches_the_smtp_server(
    desk: User, mailbox: stand_ins.Mailbox
) -> None:
    visit = book(visit_of(Reminders.EMAIL), actor=desk)

    send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    assert reminder.status == Status.SENT
    [(recipients, text)] = mailbox.received
    assert recipients == ["lucia@example.org"]
    assert "Subject: Your Post-operative control on Fri 27 Nov 2026 at 09:00" in text
    assert "From: clinic@clinic.example" in text
    assert (
        "This is a reminder of your Post-operative control on Fri 27 Nov 2026" in text
    )
    assert f"Message-ID: {reminder.provider_id}" in text


def test_the_emails_due_together_go_through_one_smtp_session(
    desk: User, mailbox: stand_ins.Mailbox
) -> None:
    for _ in range(3):
        book(visit_of(Reminders.EMAIL), actor=desk)  # each reminder due at nine

    report = send_due_messages(now=NINE)

    assert report.sent == 3
    assert len(mailbox.received) == 3
    assert len(set(mailbox.sessions)) == 1


def test_an_sms_reminder_goes_through_twilios_messages_api(
    desk: User, twilio: stand_ins.TwilioStandIn, settings: SettingsWrapper
) -> None:
    settings.SITE_URL = "https://followup.clinic.example/"
    visit = book(visit_of(), actor=desk)

    send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    [call] = twilio.requests
    assert call["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    # The stored text, with the visit's live booking link where it says so.
    link = link_url_for(visit, now=NINE)
    assert (call["To"], call["From"], call["Body"]) == (
        MOBILE,
        "+34911111111",
        with_link(reminder.text, link),
    )
    # Twilio is told where to post its delivery status: the status webhook.
    assert call["StatusCallback"] == (
        "https://followup.clinic.example/hooks/sms/twilio/status/"
    )
    credentials = base64.b64encode(f"{SID}:secret-token".encode()).decode()
    assert call["Authorization"] == f"Basic {credentials}"
    assert (reminder.status, reminder.provider_id) == (Status.SENT, f"SM{1:032x}")


def test_an_invalid_number_fails_with_twilios_code_in_words(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = book(with_phone(stand_ins.INVALID_NUMBER), actor=desk)

    report = send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    assert (reminder.status, reminder.sent_at) == (Status.FAILED, None)
    assert reminder.error == (
        "the number is not a valid phone number (Twilio error 21211)"
    )
    assert report.failed == 1
    send_due_messages(now=NINE + dt.timedelta(hours=1))
    assert len(twilio.requests) == 1  # a permanent failure is not retried


def test_a_twilio_server_error_is_retried_later(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = book(with_phone(stand_ins.TWILIO_DOWN), actor=desk)

    report = send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    assert (reminder.status, reminder.attempts) == (Status.QUEUED, 1)
    assert reminder.error == "Twilio answered 500; trying again later"
    assert reminder.next_attempt_at == NINE + dt.timedelta(minutes=1)
    assert report.retrying == 1
    send_due_messages(now=NINE + dt.timedelta(minutes=1))
    assert len(twilio.requests) == 2


def test_a_text_twilio_took_but_answered_too_late_is_never_sent_again(
    desk: User, twilio: stand_ins.TwilioStandIn, settings: SettingsWrapper
) -> None:
    settings.MESSAGE_PROVIDER_TIMEOUT_SECONDS = stand_ins.SLOW_SECONDS / 3
    visit = book(with_phone(stand_ins.TWILIO_SLOW), actor=desk)

    report = send_due_messages(now=NINE)
    send_due_messages(now=NINE + dt.timedelta(hours=1))

    # Twilio has it, and may well have sent it: once, whatever the answer.
    assert len(twilio.requests) == 1
    reminder = reminder_of(visit)
    assert (reminder.status, reminder.provider_id, reminder.attempts) == (
        Status.SENT,
        "",
        1,
    )
    assert reminder.error == (
        "Twilio did not say whether it took the message (ReadTimeout); it may "
        "have gone, so it is not sent again"
    )
    assert report.sent == 1


def test_a_twilio_that_cannot_be_reached_is_tried_again_later(
    desk: User, settings: SettingsWrapper
) -> None:
    send_texts_through_twilio_at(settings, f"http://127.0.0.1:{free_port()}")  # nobody
    visit = book(visit_of(), actor=desk)

    report = send_due_messages(now=NINE)

    # Refused: nothing left the clinic, so trying again sends it once.
    reminder = reminder_of(visit)
    assert (reminder.status, reminder.attempts) == (Status.QUEUED, 1)
    assert reminder.error == "Twilio could not be reached: ConnectionError"
    assert reminder.next_attempt_at == NINE + dt.timedelta(minutes=1)
    assert report.retrying == 1


def test_without_site_url_twilio_is_given_no_status_callback(
    settings: SettingsWrapper,
) -> None:
    settings.SITE_URL = ""

    assert providers._status_callback() == {}
