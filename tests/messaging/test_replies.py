"""A patient's texts back: each reply word's effect, the 14-day window, a
family phone, STOP and START, and a number that matches nobody.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid). A
visit booked on Friday 27 Nov at 09:00 has its reminder sent on Wednesday
at 09:00; one booked on Monday 30 Nov at 10:00, on Saturday 28 at 10:00.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection

from followup import services
from followup.models import PATIENT_REQUEST, Visit, VisitEvent, VisitStatus
from followup.models.authorship import PATIENT_SMS
from messaging import replies
from messaging.models import Direction, Intent, Kind, Message, SmsOptOut, Status
from messaging.replies import intent_of, receive_sms
from messaging.services import OPTED_OUT, send_due_messages
from tests.followup.world import FRIDAY_9, TEN_O_CLOCK, book, madrid, postop
from tests.messaging.conftest import MOBILE, messages, patient, visit_of
from tests.racing import at_once

pytestmark = [pytest.mark.postgres]
NINE = madrid(2026, 11, 25, 9)
TEN = madrid(2026, 11, 25, 10)
SATURDAY_TEN = madrid(2026, 11, 28, 10)
OTHER_NUMBER = "+34699999999"


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("C", Intent.CONFIRM),
        ("c", Intent.CONFIRM),
        ("Confirm", Intent.CONFIRM),
        ("yes please", Intent.CONFIRM),
        ("SI", Intent.CONFIRM),
        ("sí", Intent.CONFIRM),
        ("Sí, gracias", Intent.CONFIRM),
        ("C.", Intent.CONFIRM),
        ("R", Intent.CHANGE),
        ("change", Intent.CHANGE),
        ("x", Intent.CANCEL),
        ("No puedo ir", Intent.CANCEL),
        *[
            (word, Intent.OPT_OUT)
            for word in (
                "STOP",
                "stopall",
                "Unsubscribe",
                "END",
                "quit",
                "Cancel",
                "REVOKE",
                "optout",
            )
        ],
        ("START", Intent.OPT_IN),
        ("unstop", Intent.OPT_IN),
        ("", Intent.UNCLEAR),
        ("   ", Intent.UNCLEAR),
        ("maybe next week", Intent.UNCLEAR),
        ("Cita", Intent.UNCLEAR),
        ("y" * 5000, Intent.UNCLEAR),
    ],
)
def test_a_reply_means_what_its_first_word_says(body: str, intent: Intent) -> None:
    assert intent_of(body) == intent


def sent_reminder(visit: Visit, desk: User, start: dt.datetime = FRIDAY_9) -> Message:
    """Book `visit` at `start` and send its reminder, two days before."""
    book(visit, start, actor=desk)
    send_due_messages(now=start - dt.timedelta(days=2))
    [reminder] = messages(visit, kind=Kind.REMINDER, status=Status.SENT)
    return reminder


def reply(body: str, *, at: dt.datetime = TEN, number: str = MOBILE) -> Message:
    sid = f"SM{abs(hash((body, at, number))):032x}"[:34]
    return receive_sms(number=number, body=body, sid=sid, now=at)


def fresh(visit: Visit) -> Visit:
    return Visit.objects.get(pk=visit.pk)


@pytest.mark.django_db
def test_every_reply_is_a_received_message(desk: User) -> None:
    visit = visit_of()
    reminder = sent_reminder(visit, desk)

    answer = reply("C", at=TEN)

    assert (answer.direction, answer.status, answer.kind) == (
        Direction.IN,
        Status.RECEIVED,
        Kind.REPLY,
    )
    assert (answer.text, answer.to, answer.visit_id, answer.answers_id) == (
        "C",
        MOBILE,
        visit.pk,
        reminder.pk,
    )


@pytest.mark.django_db
def test_c_confirms_the_visit_and_thanks_the_patient(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)

    answer = reply("sí", at=TEN)

    visit = fresh(visit)
    assert (visit.confirmed, visit.confirmed_at, visit.status) == (
        True,
        TEN,
        VisitStatus.BOOKED,
    )
    assert answer.intent == Intent.CONFIRM
    event = VisitEvent.objects.filter(visit=visit).last()
    assert event is not None
    assert (event.action, event.actor_name, event.actor) == (
        "confirmed",
        PATIENT_SMS.name,
        None,
    )
    assert send_due_messages(now=TEN).sent == 1
    [thanks] = messages(visit, kind=Kind.REPLY, direction=Direction.OUT)
    assert thanks.status == Status.SENT
    assert "Lucia" in thanks.text and "confirmed" in thanks.text


@pytest.mark.django_db
def test_a_patient_who_confirms_twice_is_thanked_once(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    night = madrid(2026, 11, 25, 22)

    # The thank-you waits for the morning; hearing nothing, the patient
    # confirms again.
    reply("C", at=night)
    again = reply("C", at=night + dt.timedelta(minutes=10))
    send_due_messages(now=madrid(2026, 11, 26, 9))

    [thanks] = messages(visit, kind=Kind.REPLY, direction=Direction.OUT)
    assert (thanks.status, thanks.sent_at) == (Status.SENT, madrid(2026, 11, 26, 9))
    assert again.intent == Intent.CONFIRM
    assert again.outcome == "The visit was already confirmed; no second thank-you."
    assert fresh(visit).confirmed_at == night


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_are_thanked_once(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)

    answers = at_once(
        [
            lambda: receive_sms(number=MOBILE, body="C", sid="SMfirst", now=TEN),
            lambda: receive_sms(number=MOBILE, body="yes", sid="SMsecond", now=TEN),
        ]
    )

    assert sorted(answer.intent for answer in answers) == [Intent.CONFIRM] * 2
    assert len(messages(visit, kind=Kind.REPLY, direction=Direction.OUT)) == 1
    assert fresh(visit).confirmed is True


@pytest.mark.django_db
def test_moving_or_unbooking_a_confirmed_visit_clears_its_confirmation(
    desk: User,
) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    reply("C", at=TEN)

    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=fresh(visit).surgeon_id or 0,
        actor=desk,
        now=TEN,
    )
    assert (fresh(visit).confirmed, fresh(visit).confirmed_at) == (False, None)

    reply("C", at=TEN + dt.timedelta(minutes=1))  # answers the old reminder
    assert fresh(visit).confirmed is False
    services.unbook_visit(visit_id=visit.pk, actor=desk, now=TEN)
    assert fresh(visit).confirmed is False


@pytest.mark.django_db
def test_r_asks_the_front_desk_for_another_time(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    before = fresh(visit)

    answer = reply("R", at=TEN)

    assert answer.intent == Intent.CHANGE
    assert list(Message.objects.needing_person().open()) == [answer]
    after = fresh(visit)
    assert (after.status, after.start, after.sequence) == (
        before.status,
        before.start,
        before.sequence,
    )


@pytest.mark.django_db
def test_x_unbooks_the_visit_for_the_patient_and_puts_it_on_the_call_list(
    desk: User,
) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    today = TEN.date()
    # Its window closes on 5 December: not on the call list by its window.
    assert not Visit.objects.call_list(today).filter(pk=visit.pk).exists()

    answer = reply("X", at=TEN)

    visit = fresh(visit)
    assert (answer.intent, visit.status, visit.start) == (
        Intent.CANCEL,
        VisitStatus.TO_BOOK,
        None,
    )
    event = VisitEvent.objects.filter(visit=visit).last()
    assert event is not None
    assert (event.action, event.actor_name, event.details) == (
        "unbooked",
        PATIENT_SMS.name,
        {"reason": PATIENT_REQUEST},
    )
    assert Visit.objects.call_list(today).filter(pk=visit.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["X", "C"])
def test_a_reply_after_the_booked_time_began_changes_no_visit(
    desk: User, body: str
) -> None:
    """The visit was on Friday at 09:00; an X on Saturday would unbook it and
    lose whether the patient came, which is the desk's to record."""
    visit = visit_of()
    sent_reminder(visit, desk)

    answer = reply(body, at=FRIDAY_9 + dt.timedelta(days=1))

    assert answer.intent == Intent.UNCLEAR
    assert "time had begun" in answer.outcome
    visit = fresh(visit)
    assert (visit.status, visit.start, visit.confirmed) == (
        VisitStatus.BOOKED,
        FRIDAY_9,
        False,
    )


@pytest.mark.django_db
def test_a_reply_to_a_reminder_older_than_14_days_is_unclear(desk: User) -> None:
    visit = visit_of()
    reminder = sent_reminder(visit, desk)
    assert reminder.sent_at == NINE

    late = reply("X", at=NINE + dt.timedelta(days=14, seconds=1))
    assert (late.intent, late.visit_id) == (Intent.UNCLEAR, visit.pk)
    assert fresh(visit).status == VisitStatus.BOOKED
    assert "14 days" in late.outcome

    in_time = reply("C", at=NINE + dt.timedelta(days=13))
    assert in_time.answers_id == reminder.pk


@pytest.mark.django_db
def test_a_number_that_matches_nobody_is_recorded_as_unclear(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)

    answer = reply("C", number=OTHER_NUMBER)

    assert (answer.intent, answer.visit_id, answer.patient_id) == (
        Intent.UNCLEAR,
        None,
        None,
    )
    assert fresh(visit).confirmed is False
    assert list(Message.objects.needing_person().open()) == [answer]


@pytest.mark.django_db
def test_a_family_phone_answers_the_latest_text_sent_to_it(desk: User) -> None:
    elder = visit_of()
    younger = visit_of()  # another patient, the same mobile
    assert elder.patient_id != younger.patient_id
    sent_reminder(elder, desk, FRIDAY_9)  # sent Wednesday
    sent_reminder(younger, desk, TEN_O_CLOCK)  # sent Saturday

    answer = reply("X", at=SATURDAY_TEN + dt.timedelta(minutes=5))

    assert (answer.visit_id, answer.patient_id) == (younger.pk, younger.patient_id)
    assert fresh(younger).status == VisitStatus.TO_BOOK
    assert fresh(elder).status == VisitStatus.BOOKED


@pytest.mark.django_db
def test_a_reply_never_changes_a_visit_moved_since_its_reminder(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=fresh(visit).surgeon_id or 0,
        actor=desk,
        now=TEN,
    )

    answer = reply("X", at=TEN + dt.timedelta(minutes=1))

    assert answer.intent == Intent.UNCLEAR
    assert answer.outcome.startswith("Nothing changed")
    assert (fresh(visit).status, fresh(visit).start) == (
        VisitStatus.BOOKED,
        TEN_O_CLOCK,
    )


@pytest.mark.django_db
def test_x_never_unbooks_a_visit_the_desk_moved_while_the_reply_was_read(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    read = replies.answered_message

    def then_the_desk_moves_it(number: str, now: dt.datetime) -> Message | None:
        answered = read(number, now)
        # A clerk's reschedule commits after the reply read the visit it
        # answers, before the reply acts on it.
        services.reschedule_visit(
            visit_id=visit.pk,
            start=TEN_O_CLOCK,
            surgeon_id=fresh(visit).surgeon_id or 0,
            actor=desk,
            now=TEN,
        )
        return answered

    monkeypatch.setattr(replies, "answered_message", then_the_desk_moves_it)

    answer = reply("X", at=TEN + dt.timedelta(minutes=1))

    assert answer.intent == Intent.UNCLEAR
    assert answer.outcome == (
        "Nothing changed: the visit changed after the text it answers was sent."
    )
    assert (fresh(visit).status, fresh(visit).start) == (
        VisitStatus.BOOKED,
        TEN_O_CLOCK,
    )
    assert list(Message.objects.needing_person().open()) == [answer]


@pytest.mark.django_db
def test_after_stop_no_text_goes_to_the_number_until_start(desk: User) -> None:
    visit = visit_of()
    book(visit, FRIDAY_9, actor=desk)

    stop = reply("Stop", at=madrid(2026, 11, 25, 8, 30))
    assert stop.intent == Intent.OPT_OUT
    assert SmsOptOut.objects.filter(phone=MOBILE).exists()
    send_due_messages(now=NINE)

    [reminder] = messages(visit, kind=Kind.REMINDER)
    assert (reminder.status, reminder.error, reminder.sent_at) == (
        Status.CANCELLED,
        OPTED_OUT,
        None,
    )

    reply("START", at=NINE + dt.timedelta(minutes=5))
    assert not SmsOptOut.objects.exists()
    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=fresh(visit).surgeon_id or 0,
        actor=desk,
        now=TEN,
    )
    assert send_due_messages(now=SATURDAY_TEN).sent == 1


@pytest.mark.django_db
def test_stop_from_one_number_leaves_another_texted(desk: User) -> None:
    mine = visit_of()
    theirs = patient()
    theirs.phone = OTHER_NUMBER
    theirs.save(update_fields=["phone"])
    other = postop(patient=theirs)
    reply("STOP", at=madrid(2026, 11, 25, 8, 30))
    book(mine, FRIDAY_9, actor=desk)
    book(other, FRIDAY_9, actor=desk)

    send_due_messages(now=NINE)

    assert [m.status for m in messages(mine, kind=Kind.REMINDER)] == [Status.CANCELLED]
    assert [m.status for m in messages(other, kind=Kind.REMINDER)] == [Status.SENT]


@pytest.mark.django_db
def test_twilio_retrying_a_reply_records_it_once(desk: User) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)

    first = receive_sms(number=MOBILE, body="X", sid="SMretried", now=TEN)
    again = receive_sms(number=MOBILE, body="X", sid="SMretried", now=TEN)

    assert first.pk == again.pk
    assert Message.objects.filter(direction=Direction.IN).count() == 1
    assert fresh(visit).status == VisitStatus.TO_BOOK


@pytest.mark.django_db(transaction=True)
def test_a_retry_arriving_with_the_first_text_records_it_once(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    visit = visit_of()
    sent_reminder(visit, desk)
    read = replies.intent_of

    def slow_read(body: str) -> Intent:
        time.sleep(0.2)  # both have looked for the text and found none
        return read(body)

    monkeypatch.setattr(replies, "intent_of", slow_read)
    barrier = threading.Barrier(2)
    recorded: list[int] = []

    def webhook() -> None:
        try:
            barrier.wait()
            recorded.append(receive_sms(number=MOBILE, body="X", sid="SMx", now=TEN).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=webhook) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(recorded) == 2 and len(set(recorded)) == 1
    assert Message.objects.filter(direction=Direction.IN).count() == 1
    assert VisitEvent.objects.filter(visit=visit, action="unbooked").count() == 1
