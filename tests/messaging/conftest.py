"""The messaging tests' world: the booking tests' clinic, with the clock pinned.

"Now" is Wednesday 25 November 2026, 08:00 in Madrid (`tests.followup.world`);
the post-operative control's window runs from Friday 27 November to Saturday
5 December. Patients agree to reminders by SMS unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic import clock
from clinic.models import Patient, Reminders
from followup.models import Visit
from messaging.models import Message
from tests.factories import PatientFactory
from tests.followup.world import NOW, WEEKDAYS_9_TO_14, postop
from tests.messaging import stand_ins

MOBILE = "+34612345678"
SID = "AC" + "0" * 32


class Clock:
    """The clinic's clock, moved by the test."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    at = Clock(NOW)
    monkeypatch.setattr(clock, "now", at)
    yield at


@pytest.fixture(autouse=True)
def _clinic(settings: SettingsWrapper) -> None:
    settings.CLINIC_TIME_ZONE = "Europe/Madrid"
    settings.CLINIC_HOURS = WEEKDAYS_9_TO_14
    settings.MESSAGE_QUIET_HOURS = "20:00-09:00"
    settings.SMS_BACKEND = "console"
    settings.CLINIC_PHONE = "+34 910 000 000"


@pytest.fixture
def mailbox(settings: SettingsWrapper) -> Iterator[stand_ins.Mailbox]:
    """A real SMTP server on loopback (aiosmtpd), Django's SMTP backend on it.
    aiosmtpd logs every command it reads at INFO: its warnings are enough."""
    log = logging.getLogger("mail.log")
    level = log.level
    log.setLevel(logging.WARNING)
    for mailbox, port in stand_ins.smtp_server():
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        settings.DEFAULT_FROM_EMAIL = "clinic@clinic.example"
        yield mailbox
    log.setLevel(level)


def send_texts_through_twilio_at(settings: SettingsWrapper, url: str) -> None:
    """`SMS_BACKEND=twilio`, its API at `url` instead of api.twilio.com."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM = "+34911111111"
    settings.TWILIO_API_BASE_URL = url


@pytest.fixture
def twilio(settings: SettingsWrapper) -> Iterator[stand_ins.TwilioStandIn]:
    """The Twilio stand-in on loopback, `SMS_BACKEND=twilio` pointed at it."""
    for stand_in in stand_ins.twilio_server():
        send_texts_through_twilio_at(settings, stand_in.url)
        yield stand_in


@pytest.fixture
def postmark() -> Iterator[stand_ins.PostmarkStandIn]:
    """Email through django-anymail's real Postmark backend, its API the
    stand-in on loopback."""
    for stand_in in stand_ins.postmark_server():
        with override_settings(
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ANYMAIL={
                "POSTMARK_SERVER_TOKEN": stand_ins.POSTMARK_TOKEN,
                "POSTMARK_API_URL": stand_in.url,
                "REQUESTS_TIMEOUT": 5,
            },
            DEFAULT_FROM_EMAIL=stand_ins.SENDER_SIGNATURE,
        ):
            yield stand_in


@pytest.fixture
def desk(front_desk: User) -> User:
    return front_desk


def patient(reminders: str = Reminders.SMS) -> Patient:
    return PatientFactory.create(
        given_name="Lucia",
        phone=MOBILE,
        email="lucia@example.org",
        reminders=reminders,
    )


def visit_of(reminders: str = Reminders.SMS) -> Visit:
    """The post-operative control of a patient with that consent."""
    return postop(patient=patient(reminders))


def messages(visit: Visit, **filters: object) -> list[Message]:
    return list(Message.objects.filter(visit=visit, **filters).order_by("id"))
