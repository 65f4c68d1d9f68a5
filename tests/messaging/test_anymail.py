"""Email through an email service's API: django-anymail's real Postmark
backend, its calls answered by a stand-in on loopback that answers as
Postmark's email API does (tests/messaging/stand_ins.py). Nothing outside
the machine is called.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid). A
new visit's invitation is due now and waits for 09:00, the end of the quiet
hours.
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from booking_links.services import link_url_for
from clinic.models import Patient, Reminders
from followup.models import Visit
from messaging.models import Kind, Message, Status
from messaging.schedule import LINK_PLACEHOLDER, with_link
from messaging.services import send_due_messages
from tests.followup.world import madrid
from tests.messaging import stand_ins
from tests.messaging.conftest import messages, visit_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
NINE = madrid(2026, 11, 25, 9)
SITE = "https://followup.clinic.example"


@pytest.fixture(autouse=True)
def _site(settings: SettingsWrapper) -> None:
    settings.SITE_URL = SITE


def with_address(address: str) -> Visit:
    """A visit of a patient who agreed to email, at `address`."""
    visit = visit_of(Reminders.EMAIL)
    Patient.objects.filter(pk=visit.patient_id).update(email=address)
    Message.objects.filter(visit=visit).update(to=address)
    return visit


def invitation_of(visit: Visit) -> Message:
    [invitation] = messages(visit, kind=Kind.INVITATION)
    return invitation


def test_an_email_goes_through_postmarks_api_with_the_visits_booking_link(
    postmark: stand_ins.PostmarkStandIn,
) -> None:
    visit = visit_of(Reminders.EMAIL)

    report = send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    [call] = postmark.requests
    assert call["path"] == "/email"
    assert call["token"] == stand_ins.POSTMARK_TOKEN
    assert (call["To"], call["From"]) == (
        "lucia@example.org",
        "clinic@clinic.example",
    )
    assert call["Subject"] == invitation.subject
    assert "Post-operative control" in call["Subject"]
    # The stored text, with the visit's live booking link where it says so.
    link = link_url_for(visit, now=NINE)
    assert link.startswith(f"{SITE}/p/")
    assert call["TextBody"] == with_link(invitation.text, link)
    assert link in call["TextBody"]
    assert LINK_PLACEHOLDER not in call["TextBody"]
    # Postmark's id for the email is kept: its webhooks and logs name it.
    assert (invitation.status, invitation.provider_id, invitation.error) == (
        Status.SENT,
        str(uuid.UUID(int=1)),
        "",
    )
    assert report.sent == 1


@pytest.mark.parametrize(
    ("address", "error"),
    [
        (
            stand_ins.INVALID_ADDRESS,
            "the address is not a valid email address (Postmark: invalid)",
        ),
        (
            stand_ins.INACTIVE_ADDRESS,
            "the email service will not send to the address: it bounced before, "
            "or its owner marked the clinic's mail as spam (Postmark: rejected)",
        ),
    ],
)
def test_an_address_postmark_refuses_fails_in_words_and_is_not_retried(
    postmark: stand_ins.PostmarkStandIn, address: str, error: str
) -> None:
    visit = with_address(address)

    report = send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    [call] = postmark.requests
    assert call["To"] == address
    assert (invitation.status, invitation.sent_at, invitation.provider_id) == (
        Status.FAILED,
        None,
        "",
    )
    assert invitation.error == error
    assert report.failed == 1
    send_due_messages(now=NINE + dt.timedelta(hours=1))
    assert len(postmark.requests) == 1


def test_a_sender_postmark_does_not_know_fails_with_postmarks_words(
    postmark: stand_ins.PostmarkStandIn, settings: SettingsWrapper
) -> None:
    settings.DEFAULT_FROM_EMAIL = "someone@clinic.example"
    visit = visit_of(Reminders.EMAIL)

    send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    assert invitation.status == Status.FAILED
    assert invitation.error == (
        "Postmark refused the message (Postmark answered 422: The 'From' address "
        "you supplied (someone@clinic.example) is not a Sender Signature on your "
        "account.)"
    )


def test_a_wrong_server_token_fails_and_says_to_check_the_settings(
    postmark: stand_ins.PostmarkStandIn, settings: SettingsWrapper
) -> None:
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "not-the-token",
        "POSTMARK_API_URL": postmark.url,
    }
    visit = visit_of(Reminders.EMAIL)

    send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    [call] = postmark.requests
    assert call["token"] == "not-the-token"
    assert invitation.status == Status.FAILED
    assert invitation.error == (
        "Postmark refused the clinic's credentials (Postmark answered 401): "
        "check the ANYMAIL_ settings"
    )


def test_a_postmark_server_error_is_retried_later(
    postmark: stand_ins.PostmarkStandIn,
) -> None:
    visit = with_address(stand_ins.POSTMARK_DOWN)

    report = send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    assert (invitation.status, invitation.attempts) == (Status.QUEUED, 1)
    assert invitation.error == "Postmark answered 500; trying again later"
    assert invitation.next_attempt_at == NINE + dt.timedelta(minutes=1)
    assert report.retrying == 1
    send_due_messages(now=NINE + dt.timedelta(minutes=1))
    assert len(postmark.requests) == 2


def test_postmark_out_of_reach_is_retried_later(
    postmark: stand_ins.PostmarkStandIn, settings: SettingsWrapper
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": stand_ins.POSTMARK_TOKEN,
        "POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
    }
    visit = visit_of(Reminders.EMAIL)

    report = send_due_messages(now=NINE)

    invitation = invitation_of(visit)
    assert (invitation.status, invitation.attempts) == (Status.QUEUED, 1)
    assert invitation.error == "Postmark could not be reached: ConnectionError"
    assert report.retrying == 1
