"""The outbox writer: the messages a visit change makes due, in its transaction.

World: tests/messaging/conftest.py (now: Wed 25 Nov 2026 08:00, Madrid; the
control's window 27 Nov - 5 Dec; a slot on Friday 27 Nov at 09:00).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic.models import Reminders
from followup import services
from messaging import outbox
from messaging.models import Channel, Kind, Message, MessageTemplate, Status
from messaging.services import send_due_messages
from tests.followup.world import (
    FRIDAY_9,
    NOW,
    TEN_O_CLOCK,
    book,
    madrid,
    postop,
    surgeon_of,
)
from tests.messaging.conftest import MOBILE, messages, patient, visit_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def queued(visit: object, kind: str) -> list[Message]:
    return messages(visit, kind=kind, status=Status.QUEUED)  # type: ignore[arg-type]


def test_a_planned_visit_to_book_has_its_invitation_and_overdue_message_queued() -> (
    None
):
    visit = visit_of()

    # The window opens on 27 Nov: the invitation (7 days before) is late, so
    # it is due now; the overdue text the day after the window closes.
    assert [(m.kind, m.scheduled_for) for m in queued(visit, Kind.INVITATION)] == [
        (Kind.INVITATION, NOW)
    ]
    [overdue] = queued(visit, Kind.OVERDUE)
    assert overdue.scheduled_for == madrid(2026, 12, 6, 10)
    assert overdue.to == MOBILE
    assert overdue.channel == Channel.SMS


def test_booking_queues_a_reminder_two_days_before_and_cancels_the_invitation(
    desk: User,
) -> None:
    visit = visit_of()

    book(visit, actor=desk)

    [reminder] = queued(visit, Kind.REMINDER)
    assert reminder.scheduled_for == madrid(2026, 11, 25, 9)
    assert reminder.to == MOBILE
    assert reminder.text == (
        "Hello Lucia, a reminder of your Post-operative control on Fri 27 Nov "
        f"2026 at 09:00 with Dr {visit.procedure.surgeon.given_name} "
        f"{visit.procedure.surgeon.family_name}. Reply C to confirm, R to "
        "change, X to cancel, or change it here: [booking link]"
    )
    assert (reminder.visit_sequence, reminder.visit_start) == (1, FRIDAY_9)
    left = {m.kind: m.status for m in messages(visit) if m.kind != Kind.REMINDER}
    assert left == {Kind.INVITATION: Status.CANCELLED, Kind.OVERDUE: Status.CANCELLED}


def test_rescheduling_cancels_the_reminder_and_queues_one_for_the_new_slot(
    desk: User,
) -> None:
    visit = book(visit_of(), actor=desk)
    [first] = queued(visit, Kind.REMINDER)

    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=surgeon_of(visit),
        actor=desk,
        now=NOW,
    )

    first.refresh_from_db()
    assert first.status == Status.CANCELLED
    assert "changed" in first.error
    [second] = queued(visit, Kind.REMINDER)
    assert second.scheduled_for == madrid(2026, 11, 28, 10)
    assert (second.visit_sequence, second.visit_start) == (2, TEN_O_CLOCK)
    assert "Mon 30 Nov 2026 at 10:00" in second.text


@pytest.mark.parametrize("move", ["unbook", "cancel"])
def test_unbooking_or_cancelling_cancels_the_reminder(desk: User, move: str) -> None:
    visit = book(visit_of(), actor=desk)

    if move == "unbook":
        services.unbook_visit(visit_id=visit.pk, actor=desk, now=NOW, reason="")
    else:
        services.cancel_visit(visit_id=visit.pk, reason="Gave up", actor=desk, now=NOW)

    assert queued(visit, Kind.REMINDER) == []
    assert messages(visit, kind=Kind.REMINDER)[0].status == Status.CANCELLED
    # Back to book: invited again; cancelled: nothing more.
    again = {
        m.kind for m in queued(visit, Kind.INVITATION) + queued(visit, Kind.OVERDUE)
    }
    assert again == ({Kind.INVITATION, Kind.OVERDUE} if move == "unbook" else set())


def test_a_no_show_queues_an_overdue_message_the_next_morning(
    desk: User, pinned: object
) -> None:
    visit = book(visit_of(), actor=desk)
    later = FRIDAY_9.replace(minute=30)
    pinned.moment = later  # type: ignore[attr-defined]

    services.mark_no_show(visit_id=visit.pk, actor=desk, now=later)

    assert queued(visit, Kind.REMINDER) == []
    [overdue] = queued(visit, Kind.OVERDUE)
    assert overdue.scheduled_for == madrid(2026, 11, 28, 10)
    assert overdue.visit_status == "no_show"


def test_completion_leaves_nothing_queued(desk: User, pinned: object) -> None:
    visit = book(visit_of(), actor=desk)
    later = FRIDAY_9.replace(minute=5)
    pinned.moment = later  # type: ignore[attr-defined]

    services.check_in_visit(visit_id=visit.pk, actor=desk, now=later)
    services.complete_visit(visit_id=visit.pk, actor=desk, now=later)

    assert messages(visit, status=Status.QUEUED) == []


def test_a_patient_without_consent_gets_no_message(desk: User) -> None:
    visit = visit_of(Reminders.NONE)

    book(visit, actor=desk)
    services.unbook_visit(visit_id=visit.pk, actor=desk, now=NOW, reason="")

    assert not Message.objects.filter(patient=visit.patient).exists()


def test_a_patient_who_chose_email_is_reminded_by_email(desk: User) -> None:
    visit = book(visit_of(Reminders.EMAIL), actor=desk)

    [reminder] = queued(visit, Kind.REMINDER)
    assert (reminder.channel, reminder.to) == (Channel.EMAIL, "lucia@example.org")
    assert reminder.subject == "Your Post-operative control on Fri 27 Nov 2026 at 09:00"


def test_a_booking_rolled_back_leaves_no_reminder(desk: User) -> None:
    visit = visit_of()

    with pytest.raises(RuntimeError), transaction.atomic():
        book(visit, actor=desk)
        raise RuntimeError("the request failed after the booking")

    assert messages(visit, kind=Kind.REMINDER) == []


def test_an_edited_template_changes_no_message_already_written(desk: User) -> None:
    visit = book(visit_of(), actor=desk)
    [written] = queued(visit, Kind.REMINDER)
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel=Channel.SMS)
    template.text = "New words for {{ given_name }}"
    template.offset_days = -1
    template.save()

    # The writer runs again for the visit, as on any change of the plan.
    outbox.write_due_messages([visit.pk], now=NOW)
    other = book(visit_of(), actor=desk)

    written.refresh_from_db()
    assert written.status == Status.QUEUED
    assert written.text.startswith("Hello Lucia, a reminder of your")
    assert written.scheduled_for == madrid(2026, 11, 25, 9)
    assert queued(visit, Kind.REMINDER) == [written]
    [new] = queued(other, Kind.REMINDER)
    assert (new.text, new.scheduled_for) == (
        "New words for Lucia",
        madrid(2026, 11, 26, 9),
    )


def test_a_switched_off_template_writes_nothing_of_its_kind(desk: User) -> None:
    MessageTemplate.objects.filter(kind=Kind.REMINDER).update(active=False)

    visit = book(visit_of(), actor=desk)

    assert messages(visit, kind=Kind.REMINDER) == []


def test_consent_given_after_booking_queues_the_reminder(desk: User) -> None:
    visit = book(visit_of(Reminders.NONE), actor=desk)

    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), reminders=Reminders.SMS
    )

    [reminder] = queued(visit, Kind.REMINDER)
    assert (reminder.to, reminder.scheduled_for) == (MOBILE, madrid(2026, 11, 25, 9))


def test_consent_withdrawn_cancels_what_is_queued(desk: User) -> None:
    visit = book(visit_of(), actor=desk)

    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), reminders=Reminders.NONE
    )

    assert messages(visit, status=Status.QUEUED) == []
    assert messages(visit, kind=Kind.REMINDER)[0].error == outbox.MOOT


def test_a_sent_reminder_is_not_sent_again_after_the_name_is_corrected(
    desk: User,
) -> None:
    visit = book(visit_of(), actor=desk)
    send_due_messages(now=madrid(2026, 11, 25, 9))

    # A corrected name raises the visit's sequence (the calendars re-read it).
    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), given_name="Lucía"
    )

    assert [m.status for m in messages(visit, kind=Kind.REMINDER)] == [Status.SENT]


def test_a_visit_moved_away_and_back_after_both_reminders_went_is_reminded_again(
    desk: User,
) -> None:
    monday, tuesday = TEN_O_CLOCK, TEN_O_CLOCK + dt.timedelta(days=1)
    visit = book(visit_of(), monday, actor=desk)
    send_due_messages(now=madrid(2026, 11, 28, 10))  # "Monday at 10:00"
    _move(visit, tuesday, desk, now=madrid(2026, 11, 28, 11))
    send_due_messages(now=madrid(2026, 11, 29, 10))  # "Tuesday at 10:00"

    # Sunday noon, back to Monday: the last text the patient read says Tuesday.
    _move(visit, monday, desk, now=madrid(2026, 11, 29, 12))
    send_due_messages(now=madrid(2026, 11, 29, 12))

    sent = messages(visit, kind=Kind.REMINDER, status=Status.SENT)
    assert [m.visit_start for m in sent] == [monday, tuesday, monday]
    assert "Mon 30 Nov 2026 at 10:00" in sent[-1].text
    # Moved away and back before the second went: nothing more to say.
    _move(visit, tuesday, desk, now=madrid(2026, 11, 29, 13))
    _move(visit, monday, desk, now=madrid(2026, 11, 29, 14))
    send_due_messages(now=madrid(2026, 11, 29, 15))
    assert len(messages(visit, kind=Kind.REMINDER, status=Status.SENT)) == 3


def _move(visit: object, start: dt.datetime, desk: User, *, now: dt.datetime) -> None:
    services.reschedule_visit(
        visit_id=visit.pk,  # type: ignore[attr-defined]
        start=start,
        surgeon_id=surgeon_of(visit),  # type: ignore[arg-type]
        actor=desk,
        now=now,
    )


def test_a_queued_reminder_is_rewritten_with_the_corrected_name(desk: User) -> None:
    visit = book(visit_of(), actor=desk)

    services.correct_patient(
        patient_id=visit.patient_id, today=NOW.date(), given_name="Lucía"
    )

    [old, new] = messages(visit, kind=Kind.REMINDER)
    assert (old.status, new.status) == (Status.CANCELLED, Status.QUEUED)
    assert new.text.startswith("Hello Lucía, a reminder")
    assert new.scheduled_for == old.scheduled_for


def test_the_writer_takes_as_many_queries_for_many_visits_as_for_few() -> None:
    few = [visit_of().pk for _ in range(2)]
    many = [visit_of().pk for _ in range(12)]
    Message.objects.all().delete()  # every visit's messages to write again

    with CaptureQueriesContext(connection) as for_few:
        outbox.write_due_messages(few, now=NOW)
    with CaptureQueriesContext(connection) as for_many:
        outbox.write_due_messages(many, now=NOW)

    assert len(for_few) == len(for_many) <= 5
    assert Message.objects.filter(visit__in=many, kind=Kind.INVITATION).count() == 12


def test_an_old_procedure_imported_today_texts_nobody_about_its_past() -> None:
    # Its control's window closed in January 2025: the overdue text's moment
    # (the day after) passed long before anyone could send it.
    visit = postop(patient=patient(), surgery_date=dt.date(2025, 1, 6))

    assert visit.status == "to_book"
    assert messages(visit) == []
