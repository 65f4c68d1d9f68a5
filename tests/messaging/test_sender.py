"""The sender: each due message sent once, never for a visit that moved, never
at night; failures retried or failed with their reason.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid, in
the quiet hours 20:00-09:00; a booking on Friday 27 Nov at 09:00 has its
reminder due on Wednesday at 09:00).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic.models import Patient, Reminders
from followup import services
from followup.models import Visit
from messaging import providers, tasks
from messaging import services as sender
from messaging.models import Kind, Message, Status
from messaging.services import send_due_messages
from tests.followup.world import NOW, TEN_O_CLOCK, book, madrid
from tests.messaging.conftest import messages, visit_of

pytestmark = [pytest.mark.postgres]
NINE = madrid(2026, 11, 25, 9)


def reminder_of(visit: Visit) -> Message:
    [reminder] = messages(visit, kind=Kind.REMINDER)
    return reminder


@pytest.mark.django_db
def test_a_due_reminder_is_sent_once_and_logged(
    desk: User, caplog: pytest.LogCaptureFixture
) -> None:
    visit = book(visit_of(), actor=desk)

    with caplog.at_level(logging.INFO, logger="messaging.providers"):
        first = send_due_messages(now=NINE)
        second = send_due_messages(now=NINE + dt.timedelta(minutes=1))

    reminder = reminder_of(visit)
    assert (reminder.status, reminder.sent_at, reminder.attempts) == (
        Status.SENT,
        NINE,
        1,
    )
    assert reminder.provider_id.startswith("console-")
    assert (first.sent, second.sent) == (1, 0)
    [line] = [r.getMessage() for r in caplog.records if "SMS to" in r.getMessage()]
    assert reminder.text in line


@pytest.mark.django_db
def test_nothing_is_sent_before_its_time(desk: User) -> None:
    visit = book(visit_of(), actor=desk)

    report = send_due_messages(now=NINE - dt.timedelta(seconds=1))

    assert reminder_of(visit).status == Status.QUEUED
    assert report.sent == 0


@pytest.mark.django_db
def test_a_reminder_whose_visit_moved_unseen_is_cancelled_never_sent(
    desk: User, caplog: pytest.LogCaptureFixture
) -> None:
    visit = book(visit_of(), actor=desk)
    # A change that bypassed the outbox (another path, a restored backup).
    Visit.objects.filter(pk=visit.pk).update(
        start=TEN_O_CLOCK,
        end=TEN_O_CLOCK + dt.timedelta(minutes=20),
        sequence=F("sequence") + 1,
    )

    with caplog.at_level(logging.INFO, logger="messaging.providers"):
        report = send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    assert (reminder.status, reminder.sent_at) == (Status.CANCELLED, None)
    assert reminder.error == "The visit changed after this message was written."
    assert report.cancelled == 1
    assert not [r for r in caplog.records if "SMS to" in r.getMessage()]


@pytest.mark.django_db
def test_a_message_after_consent_was_withdrawn_is_cancelled(desk: User) -> None:
    visit = book(visit_of(), actor=desk)
    # Withdrawn by a path that bypassed the outbox (the outbox cancels too).
    Patient.objects.filter(pk=visit.patient_id).update(reminders=Reminders.NONE)

    send_due_messages(now=NINE)

    reminder = reminder_of(visit)
    assert reminder.status == Status.CANCELLED
    assert reminder.error == "The patient's consent or contact details changed."


@pytest.mark.django_db
def test_in_quiet_hours_a_due_message_waits_for_the_morning(
    settings: SettingsWrapper,
) -> None:
    visit = visit_of()  # its invitation is due now, at 08:00
    [invitation] = messages(visit, kind=Kind.INVITATION)

    report = send_due_messages(now=NOW)

    invitation.refresh_from_db()
    assert (invitation.status, invitation.scheduled_for) == (Status.QUEUED, NINE)
    assert report.postponed == 1
    send_due_messages(now=NINE)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.sent_at) == (Status.SENT, NINE)


@pytest.mark.django_db
def test_quiet_hours_that_begin_in_the_evening_end_the_next_morning(
    settings: SettingsWrapper,
) -> None:
    settings.MESSAGE_QUIET_HOURS = "21:30-08:30"
    visit = visit_of()
    late = madrid(2026, 11, 25, 22)

    send_due_messages(now=late)

    [invitation] = messages(visit, kind=Kind.INVITATION)
    assert invitation.scheduled_for == madrid(2026, 11, 26, 8, 30)
    assert invitation.status == Status.QUEUED


@pytest.mark.django_db
def test_without_quiet_hours_a_message_goes_at_any_hour(
    settings: SettingsWrapper,
) -> None:
    settings.MESSAGE_QUIET_HOURS = ""
    visit = visit_of()

    send_due_messages(now=NOW)

    assert messages(visit, kind=Kind.INVITATION)[0].status == Status.SENT


@pytest.mark.django_db
def test_a_transient_failure_is_retried_with_backoff_then_failed(
    desk: User, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MESSAGE_MAX_ATTEMPTS = 2
    visit = book(visit_of(), actor=desk)

    def down(message: Message) -> str:
        raise providers.Transient("Twilio answered 500; trying again later")

    monkeypatch.setattr(providers, "send_to_log", down)

    assert send_due_messages(now=NINE).retrying == 1
    reminder = reminder_of(visit)
    assert (reminder.status, reminder.attempts) == (Status.QUEUED, 1)
    assert reminder.next_attempt_at == NINE + dt.timedelta(minutes=1)
    assert send_due_messages(now=NINE + dt.timedelta(seconds=30)).retrying == 0
    assert send_due_messages(now=NINE + dt.timedelta(minutes=1)).failed == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (Status.FAILED, 2)
    assert reminder.error == (
        "Gave up after 2 attempts: Twilio answered 500; trying again later"
    )


@pytest.mark.django_db
def test_the_command_and_the_beat_task_run_the_sender(
    desk: User, pinned: Any, settings: SettingsWrapper
) -> None:
    first, second = book(visit_of(), actor=desk), visit_of()
    pinned.moment = NINE

    call_command("send_due_messages", stdout=(out := io.StringIO()))
    assert out.getvalue().strip().startswith("sent=2 ")  # the reminder, the invitation
    assert reminder_of(first).status == Status.SENT
    assert messages(second, kind=Kind.INVITATION)[0].status == Status.SENT
    assert tasks.send_due_messages() == (
        "sent=0 cancelled=0 failed=0 retrying=0 postponed=0"
    )
    schedule = settings.CELERY_BEAT_SCHEDULE["send-due-messages"]
    assert schedule == {"task": "messaging.tasks.send_due_messages", "schedule": 60}


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visits = [visit_of() for _ in range(40)]  # 40 invitations due now
    sent: list[int] = []
    lock = threading.Lock()

    def slow_log(message: Message) -> str:
        time.sleep(0.02)  # the provider's round trip: the workers overlap
        with lock:
            sent.append(message.pk)
        return f"console-{message.pk}"

    monkeypatch.setattr(providers, "send_to_log", slow_log)
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        try:
            barrier.wait()
            reports.append(send_due_messages(now=NINE))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    invitations = Message.objects.filter(visit__in=visits, kind=Kind.INVITATION)
    assert sorted(sent) == sorted(invitations.values_list("pk", flat=True))
    assert len(set(sent)) == 40
    assert set(invitations.values_list("status", flat=True)) == {Status.SENT}
    assert sum(report.sent for report in reports) == 40
    assert all(report.sent > 0 for report in reports)


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_in_flight_is_left_to_the_next_run_its_old_reminder_never_sent(
    monkeypatch: pytest.MonkeyPatch, front_desk: User
) -> None:
    visit = book(visit_of(), actor=front_desk)
    sent: list[int] = []

    def record(message: Message) -> str:
        sent.append(message.pk)
        return "console-test"

    monkeypatch.setattr(providers, "send_to_log", record)
    changed, release = threading.Event(), threading.Event()

    def clerk() -> None:
        try:
            with transaction.atomic():
                services.reschedule_visit(
                    visit_id=visit.pk,
                    start=TEN_O_CLOCK,
                    surgeon_id=visit.surgeon_id or 0,
                    actor=front_desk,
                    now=NOW,
                )
                changed.set()
                release.wait(5)  # the sender runs while this is uncommitted
        finally:
            connection.close()

    thread = threading.Thread(target=clerk)
    thread.start()
    assert changed.wait(5)
    threading.Timer(0.3, release.set).start()

    report = send_due_messages(now=NINE)
    thread.join()

    assert sent == []
    assert report.sent == 0
    old, new = messages(visit, kind=Kind.REMINDER)
    assert (old.status, new.status) == (Status.CANCELLED, Status.QUEUED)


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_visit_another_transaction_holds_goes_in_the_next_run(
    desk: User,
) -> None:
    visit = book(visit_of(), actor=desk)
    held, release = threading.Event(), threading.Event()

    def clerk() -> None:
        try:
            with transaction.atomic():
                Visit.objects.select_for_update().get(pk=visit.pk)
                held.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=clerk)
    thread.start()
    assert held.wait(5)
    try:
        skipped = send_due_messages(now=NINE)  # never waits for the lock
    finally:
        release.set()
        thread.join()
    assert (skipped.sent, reminder_of(visit).status) == (0, Status.QUEUED)

    later = send_due_messages(now=NINE + dt.timedelta(minutes=1))

    assert later.sent == 1
    assert reminder_of(visit).status == Status.SENT


@pytest.mark.django_db
def test_one_run_sends_every_due_message_batch_after_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender, "BATCH", 3)
    visits = [visit_of() for _ in range(7)]  # 7 invitations due now

    report = send_due_messages(now=NINE)

    assert report.sent == 7
    invitations = Message.objects.filter(visit__in=visits, kind=Kind.INVITATION)
    assert set(invitations.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db
def test_a_run_that_reaches_the_quiet_hours_stops_and_holds_the_rest_to_morning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backlog begun at 19:59 is not sent on into the night: the run stops
    between two batches once it is 20:00, the rest held to 09:00."""
    monkeypatch.setattr(sender, "BATCH", 3)
    visits = [visit_of() for _ in range(7)]  # 7 invitations due by 19:59
    evening = madrid(2026, 11, 25, 19, 59)
    ran = iter([dt.timedelta(0), dt.timedelta(minutes=2)])  # a slow first batch

    report = send_due_messages(now=evening, running=lambda: next(ran))

    assert (report.sent, report.postponed) == (3, 4)
    invitations = Message.objects.filter(visit__in=visits, kind=Kind.INVITATION)
    sent = invitations.filter(status=Status.SENT)
    assert all(m.sent_at == evening for m in sent)
    held = invitations.filter(status=Status.QUEUED)
    assert set(held.values_list("scheduled_for", flat=True)) == {
        madrid(2026, 11, 26, 9)
    }
