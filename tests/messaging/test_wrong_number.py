"""A number the front desk found to reach someone else takes no text: the
reminders and offers would tell a stranger the patient's name and visit.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid; the
control's window 27 Nov - 5 Dec; a slot on Friday 27 Nov at 09:00).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User

from booking_links.services import find_live, live_token
from clinic.models import Patient, Surgeon
from core.tokens import hash_token
from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit, VisitStatus
from followup.services import booking
from messaging.models import Intent, Kind, Message, Status
from messaging.replies import receive_sms
from messaging.services import send_due_messages
from tests.factories import PatientFactory
from tests.followup.world import FRIDAY_9, NOW, book, postop
from tests.messaging.conftest import MOBILE, messages, visit_of
from tests.racing import race

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HELD = "Held: 612 34 56 78 was reported on Wed 25 Nov 2026 to reach someone else."
OTHER_MOBILE = "+34699111222"


def called(
    visit: Visit,
    outcome: str,
    *,
    channel: str = ContactChannel.PHONE,
    at: dt.datetime = NOW,
    desk: User | None = None,
) -> None:
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel(channel),
        outcome=ContactOutcome(outcome),
        actor=desk,
        now=at,
    )


def texts(visit: Visit, status: str) -> list[tuple[str, str]]:
    return [(m.kind, m.to) for m in messages(visit, status=status)]


def test_a_call_that_reached_someone_else_holds_every_text_to_the_number(
    desk: User,
) -> None:
    visit = visit_of()
    assert texts(visit, Status.QUEUED) == [
        (Kind.INVITATION, MOBILE),
        (Kind.OVERDUE, MOBILE),
    ]

    called(visit, ContactOutcome.WRONG_NUMBER, desk=desk)

    patient = Patient.objects.get(pk=visit.patient_id)
    assert patient.texts_held
    assert texts(visit, Status.QUEUED) == []
    assert {m.error for m in messages(visit, status=Status.CANCELLED)} == {HELD}
    # Booked by the desk meanwhile: no reminder is written, none is sent.
    book(visit, actor=desk)
    assert texts(visit, Status.QUEUED) == []
    send_due_messages(now=FRIDAY_9 - dt.timedelta(days=2))
    assert texts(visit, Status.SENT) == []


def test_a_corrected_number_is_texted_again(desk: User) -> None:
    visit = visit_of()
    called(visit, ContactOutcome.WRONG_NUMBER, desk=desk)

    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), phone=OTHER_MOBILE
    )

    assert texts(visit, Status.QUEUED) == [
        (Kind.INVITATION, OTHER_MOBILE),
        (Kind.OVERDUE, OTHER_MOBILE),
    ]
    assert not Patient.objects.get(pk=visit.patient_id).texts_held


def test_a_wrong_number_ends_the_booking_links_the_stranger_may_have_had(
    desk: User,
) -> None:
    # Texts already sent to that number carry the visit's booking link: its
    # holder could read the visit and cancel or move it.
    visit = visit_of()
    other = Visit.objects.filter(patient_id=visit.patient_id).exclude(pk=visit.pk)
    sent = [live_token(visit_id=v.pk, now=NOW) for v in (visit, *other[:1])]
    someone_elses = postop(patient=PatientFactory.create(phone=OTHER_MOBILE))
    elsewhere = live_token(visit_id=someone_elses.pk, now=NOW)

    called(visit, ContactOutcome.WRONG_NUMBER, desk=desk)

    later = NOW + dt.timedelta(minutes=5)
    assert [find_live(hash_token(t), now=later) for t in sent] == [None] * len(sent)
    assert find_live(hash_token(elsewhere), now=later) is not None
    # The next message, once the number is corrected, carries a link that works.
    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), phone=OTHER_MOBILE
    )
    fresh = live_token(visit_id=visit.pk, now=later)
    assert fresh not in sent
    assert find_live(hash_token(fresh), now=later) is not None


def test_a_later_call_that_reaches_the_patient_on_it_lifts_the_hold(
    desk: User,
) -> None:
    visit = visit_of()
    called(visit, ContactOutcome.WRONG_NUMBER, desk=desk)
    # Another miss keeps it held.
    called(visit, ContactOutcome.NO_ANSWER, desk=desk)
    assert texts(visit, Status.QUEUED) == []

    called(visit, ContactOutcome.WILL_BOOK, desk=desk)

    assert texts(visit, Status.QUEUED) == [
        (Kind.INVITATION, MOBILE),
        (Kind.OVERDUE, MOBILE),
    ]
    patient = Patient.objects.get(pk=visit.patient_id)
    assert (patient.texts_held, patient.wrong_phone, patient.wrong_phone_at) == (
        False,
        "",
        None,
    )


@pytest.mark.parametrize(
    "channel", [ContactChannel.EMAIL, ContactChannel.LETTER, ContactChannel.IN_PERSON]
)
def test_a_wrong_number_outcome_that_used_no_phone_holds_no_text(
    desk: User, channel: str
) -> None:
    visit = visit_of()

    called(visit, ContactOutcome.WRONG_NUMBER, channel=channel, desk=desk)

    assert not Patient.objects.get(pk=visit.patient_id).texts_held
    assert texts(visit, Status.QUEUED) == [
        (Kind.INVITATION, MOBILE),
        (Kind.OVERDUE, MOBILE),
    ]


def test_the_sender_holds_a_text_the_outbox_was_not_told_of(desk: User) -> None:
    visit = book(visit_of(), actor=desk)
    # Held by a path that bypassed the outbox (the outbox cancels too).
    Patient.objects.filter(pk=visit.patient_id).update(
        wrong_phone=MOBILE, wrong_phone_at=NOW
    )

    send_due_messages(now=FRIDAY_9 - dt.timedelta(days=2))

    [reminder] = messages(visit, kind=Kind.REMINDER)
    assert (reminder.status, reminder.error) == (Status.CANCELLED, HELD)


def test_a_reply_from_a_number_reported_wrong_changes_no_visit(desk: User) -> None:
    visit = book(visit_of(), actor=desk)
    send_due_messages(now=FRIDAY_9 - dt.timedelta(days=2))
    [reminder] = messages(visit, kind=Kind.REMINDER, status=Status.SENT)
    at = FRIDAY_9 - dt.timedelta(days=1)
    called(visit, ContactOutcome.WRONG_NUMBER, at=at, desk=desk)

    answer = receive_sms(number=MOBILE, body="X", sid="SM" + "1" * 32, now=at)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
    assert (answer.intent, answer.visit_id) == (Intent.UNCLEAR, visit.pk)
    assert answer.outcome == (
        "Nothing changed: the front desk found this number to reach someone "
        "else, so a reply from it changes no visit."
    )
    assert not Message.objects.filter(kind=Kind.REPLY, status=Status.QUEUED).exists()
    assert answer.answers_id == reminder.pk


def test_a_reply_from_the_number_corrected_away_changes_no_visit(desk: User) -> None:
    visit = book(visit_of(), actor=desk)
    send_due_messages(now=FRIDAY_9 - dt.timedelta(days=2))
    at = FRIDAY_9 - dt.timedelta(days=1)
    called(visit, ContactOutcome.WRONG_NUMBER, at=at, desk=desk)
    services.correct_patient(
        patient_id=visit.patient_id, today=at.date(), phone=OTHER_MOBILE
    )

    # Whoever has the old number got the reminder, and answers it.
    answer = receive_sms(number=MOBILE, body="X", sid="SM" + "2" * 32, now=at)

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
    assert answer.intent == Intent.UNCLEAR
    assert answer.outcome == (
        "Nothing changed: this number is no longer the patient's, so a reply "
        "from it changes no visit."
    )


@pytest.mark.django_db(transaction=True)
def test_a_wrong_number_recorded_while_the_visit_is_booked_waits_its_turn(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    visit = visit_of()
    booking_holds_the_visit, number_reported = threading.Event(), threading.Event()
    checked = booking.bookable_surgeon

    def slow_check(surgeon_id: int) -> Surgeon:
        # The booking holds the visit; the clerk's report comes in now.
        booking_holds_the_visit.set()
        number_reported.wait(timeout=10)
        time.sleep(0.5)  # the report has taken what it takes before the visit
        return checked(surgeon_id)

    monkeypatch.setattr(booking, "bookable_surgeon", slow_check)

    def report() -> None:
        booking_holds_the_visit.wait(timeout=10)
        number_reported.set()
        called(visit, ContactOutcome.WRONG_NUMBER, desk=desk)

    done, errors = race([lambda: book(visit, actor=desk), report])

    assert (done, errors) == (2, [])
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
    assert Patient.objects.get(pk=visit.patient_id).texts_held
    assert texts(visit, Status.QUEUED) == []


@pytest.mark.django_db(transaction=True)
def test_a_number_corrected_while_the_visit_is_booked_waits_its_turn(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    visit = visit_of()
    booked, corrected = threading.Event(), threading.Event()
    tell = booking.tell_if_freed

    def slow_tell(*args: Any, **kwargs: Any) -> None:
        # The booking has written its reminder; the correction comes in now.
        booked.set()
        corrected.wait(timeout=10)
        time.sleep(0.5)  # the correction has locked the patient
        tell(*args, **kwargs)

    monkeypatch.setattr(booking, "tell_if_freed", slow_tell)

    def correct() -> None:
        booked.wait(timeout=10)
        corrected.set()
        services.correct_patient(
            patient_id=visit.patient_id, today=NOW.date(), phone=OTHER_MOBILE
        )

    done, errors = race([lambda: book(visit, actor=desk), correct])

    assert (done, errors) == (2, [])
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED
    assert texts(visit, Status.QUEUED) == [(Kind.REMINDER, OTHER_MOBILE)]
