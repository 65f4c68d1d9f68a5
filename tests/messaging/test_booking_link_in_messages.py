"""The booking link inside messages: what goes out carries the visit's live
link, the database never holds its token, and the link opens the page.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid; a
new visit's invitation is due now and waits for 09:00, the end of the quiet
hours; a visit booked on Friday 27 Nov at 09:00 has its reminder due on
Wednesday at 09:00). Messages go through the real providers on loopback:
Twilio's stand-in and an SMTP server.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from booking_links import services as links
from booking_links.models import BookingLink
from clinic.models import Reminders
from core.tokens import hash_token, looks_like_token, new_token
from followup.models import Visit
from messaging.models import Direction, Kind, Message, Status
from messaging.replies import receive_sms
from messaging.schedule import LINK_PLACEHOLDER
from messaging.services import send_due_messages
from tests.factories import PatientFactory
from tests.followup.world import book, madrid, postop
from tests.messaging import stand_ins
from tests.messaging.conftest import MOBILE, messages, visit_of
from web.patient_link import views

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
SITE = "https://followup.clinic.example"
NINE = madrid(2026, 11, 25, 9)
TEN = madrid(2026, 11, 25, 10)
LINK = re.compile(re.escape(SITE) + r"(/p/([A-Za-z0-9_-]+)/)")


@pytest.fixture(autouse=True)
def _site(settings: SettingsWrapper) -> Iterator[None]:
    settings.SITE_URL = SITE + "/"  # a trailing slash is not doubled
    views.throttle.reset()
    yield
    views.throttle.reset()


def links_in(text: str) -> list[tuple[str, str]]:
    """(path, token) of every booking link in `text`."""
    return [(m.group(1), m.group(2)) for m in LINK.finditer(text)]


def opens_the_visit(path: str, visit: Visit) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert visit.rule.name in page and visit.patient.given_name in page


def no_row_holds(token: str) -> None:
    for text, subject, error in Message.objects.values_list("text", "subject", "error"):
        assert token not in text + subject + error
    assert not BookingLink.objects.filter(nonce=token).exists()
    assert BookingLink.objects.filter(token_hash=hash_token(token)).count() == 1


def test_an_sms_reminder_carries_a_link_that_opens_the_visits_booking_page(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = book(visit_of(), actor=desk)

    send_due_messages(now=NINE)

    [call] = twilio.requests
    [(path, token)] = links_in(call["Body"])
    assert looks_like_token(token)
    assert call["Body"].endswith(f"or change it here: {SITE}{path}")
    opens_the_visit(path, visit)
    [reminder] = messages(visit, kind=Kind.REMINDER)
    assert reminder.status == Status.SENT
    assert reminder.text.endswith(f"change it here: {LINK_PLACEHOLDER}")
    no_row_holds(token)


def test_an_email_carries_the_link_instead_of_asking_for_a_reply(
    mailbox: stand_ins.Mailbox,
) -> None:
    visit = visit_of(Reminders.EMAIL)  # its invitation is due this morning

    send_due_messages(now=NINE)

    [(recipients, email)] = mailbox.received
    assert recipients == ["lucia@example.org"]
    [(path, token)] = links_in(email)
    assert "Choose the time that suits you on your booking page:" in email
    assert "Reply" not in email
    opens_the_visit(path, visit)
    no_row_holds(token)


def test_two_messages_of_one_visit_carry_the_same_working_link(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = visit_of()
    send_due_messages(now=NINE)  # the invitation
    book(visit, actor=desk)  # its reminder is due at 09:00

    send_due_messages(now=NINE + dt.timedelta(minutes=1))

    invitation, reminder = (links_in(call["Body"]) for call in twilio.requests)
    assert invitation == reminder
    [(path, _)] = reminder
    opens_the_visit(path, visit)
    assert BookingLink.objects.filter(visit=visit).count() == 1


def test_a_link_the_desk_makes_ends_the_old_one_and_later_messages_carry_it(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = visit_of()
    send_due_messages(now=NINE)
    [(old_path, _)] = links_in(twilio.requests[0]["Body"])
    api = APIClient()
    api.force_login(desk)

    made = api.post(f"/api/visits/{visit.pk}/booking-link/")
    book(visit, actor=desk)
    send_due_messages(now=NINE + dt.timedelta(minutes=1))

    assert made.status_code == 201
    [(new_path, _)] = links_in(twilio.requests[1]["Body"])
    assert made.json()["url"] == f"http://testserver{new_path}"
    assert new_path != old_path
    opens_the_visit(new_path, visit)
    assert Client().get(old_path).status_code == 404


def test_r_sends_the_booking_link_back_and_keeps_the_visit_for_the_desk(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = book(visit_of(), actor=desk)
    send_due_messages(now=NINE)

    answer = receive_sms(number=MOBILE, body="R", sid="SM-r", now=TEN)
    send_due_messages(now=TEN)

    assert answer.outcome == (
        "The patient asks for another time; the booking link is on its way."
    )
    assert list(Message.objects.needing_person().open()) == [answer]
    [back] = messages(visit, kind=Kind.REPLY, direction=Direction.OUT)
    assert (back.status, back.to, back.sent_at) == (Status.SENT, MOBILE, TEN)
    assert back.text == (
        "Lucia, choose another time for your Post-operative control here: "
        f"{LINK_PLACEHOLDER} Or call +34 910 000 000."
    )
    reminder_link, answer_link = (links_in(c["Body"]) for c in twilio.requests)
    assert answer_link == reminder_link
    opens_the_visit(answer_link[0][0], visit)


def test_an_r_at_night_is_answered_in_the_morning(
    desk: User, twilio: stand_ins.TwilioStandIn
) -> None:
    visit = book(visit_of(), actor=desk)
    send_due_messages(now=NINE)
    night = madrid(2026, 11, 25, 23)

    receive_sms(number=MOBILE, body="change", sid="SM-night", now=night)
    send_due_messages(now=night)

    [back] = messages(visit, kind=Kind.REPLY, direction=Direction.OUT)
    assert (back.status, back.scheduled_for) == (Status.QUEUED, madrid(2026, 11, 26, 9))
    assert len(twilio.requests) == 1  # the reminder only


def test_an_old_link_without_a_nonce_still_opens_but_a_message_gets_a_new_one(
    twilio: stand_ins.TwilioStandIn,
) -> None:
    visit = visit_of()
    token, digest = new_token()  # a link made before links were derivable
    old = BookingLink.objects.create(visit=visit, token_hash=digest, created_at=NINE)
    opens_the_visit(f"/p/{token}/", visit)

    send_due_messages(now=NINE)

    [(path, sent_token)] = links_in(twilio.requests[0]["Body"])
    assert sent_token != token
    opens_the_visit(path, visit)
    old.refresh_from_db()
    assert old.ended_at == NINE


def test_one_run_gives_each_visit_its_own_link_in_one_batch(
    twilio: stand_ins.TwilioStandIn,
) -> None:
    """The sender finds a batch's links at once: each text still carries its
    own visit's, the desk's live link is kept and an underivable one replaced."""
    kept = visit_of()
    issued = links.issue_link(visit_id=kept.pk, actor=None, now=NINE)
    fresh = visit_of()
    underivable = visit_of()
    _, digest = new_token()
    old = BookingLink.objects.create(
        visit=underivable, token_hash=digest, created_at=NINE
    )

    send_due_messages(now=NINE)

    sent = {}
    for call in twilio.requests:
        [(path, token)] = links_in(call["Body"])
        link = BookingLink.objects.get(token_hash=hash_token(token))
        sent[link.visit_id] = token
        opens_the_visit(path, link.visit)
    assert set(sent) == {kept.pk, fresh.pk, underivable.pk}
    assert sent[kept.pk] == issued.token
    old.refresh_from_db()
    assert old.ended_at == NINE
    for visit in (kept, fresh, underivable):
        assert BookingLink.objects.filter(visit=visit, ended_at=None).count() == 1


def test_a_new_secret_key_makes_a_new_link_for_the_next_message(
    twilio: stand_ins.TwilioStandIn, settings: SettingsWrapper
) -> None:
    visit = visit_of()
    issued = links.issue_link(visit_id=visit.pk, actor=None, now=NINE)
    settings.SECRET_KEY = "another-" + "k" * 60  # the old token is underivable

    send_due_messages(now=NINE)

    [(path, token)] = links_in(twilio.requests[0]["Body"])
    assert token != issued.token
    opens_the_visit(path, visit)


def test_a_visit_with_nothing_left_to_book_gets_no_link_and_no_message(
    twilio: stand_ins.TwilioStandIn,
) -> None:
    # An answer with the link, for a visit whose window closed 70 days ago.
    visit = postop(
        patient=PatientFactory.create(phone=MOBILE, reminders=Reminders.SMS),
        surgery_date=dt.date(2026, 9, 1),
    )
    answer = Message.objects.create(
        visit=visit,
        patient=visit.patient,
        direction=Direction.OUT,
        channel="sms",
        kind=Kind.REPLY,
        status=Status.QUEUED,
        text=f"Choose a time: {LINK_PLACEHOLDER}",
        to=MOBILE,
        scheduled_for=NINE,
        visit_sequence=visit.sequence,
        visit_status=visit.status,
        visit_start=visit.start,
        visit_window_start=visit.window_start,
        visit_window_end=visit.window_end,
        created_at=NINE,
    )

    assert send_due_messages(now=NINE).outcomes[answer.pk] == "cancelled"

    answer.refresh_from_db()
    assert answer.status == Status.CANCELLED
    assert answer.error == (
        "No booking link to send: The visit's window closed more than 60 days "
        "ago; book it at the desk."
    )
    assert not BookingLink.objects.filter(visit=visit).exists()
    assert [r for r in twilio.requests if r["To"] == MOBILE] == []


def test_without_site_url_a_link_message_is_refused_loudly_and_stays_queued(
    desk: User, settings: SettingsWrapper
) -> None:
    settings.SITE_URL = ""  # production with no SITE_URL
    visit = book(visit_of(), actor=desk)

    with pytest.raises(ImproperlyConfigured, match="SITE_URL is not set"):
        send_due_messages(now=NINE)

    [reminder] = messages(visit, kind=Kind.REMINDER)
    assert reminder.status == Status.QUEUED
    assert not BookingLink.objects.filter(visit=visit).exists()
