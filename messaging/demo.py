"""The demo clinic's messages: a past round of sending, Twilio's word on it,
and the patients' replies, so that `make run` shows every state.

`seed_demo` (`followup.demo`) runs `seed_messages` after it has booked,
moved and cancelled the demo's visits, whose outbox already holds queued
messages (the reminders and invitations still ahead) and cancelled ones
(the invitations of visits booked since). Then, through the messaging
services, with the moment each step would have happened:

1. half an hour ago (or, in the quiet hours, the evening before they
   began) the sender sent what was due, with the reminders of the four
   soonest booked visits (texts to the log, as the demo sends them; the
   demo's past emails go nowhere, those due from now on print as usual);
2. Twilio called back: the texts delivered, one not (the phone off: failed,
   on the *Replies* tab);
3. three patients answered their reminder: C (confirmed, a thank-you
   queued), R (a change request, on *Replies*, the booking link texted
   back) and a question the reply words do not cover (unclear, on
   *Replies*);
4. the sender sent the answers.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from clinic import clock
from clinic.clock import clinic_zone, local
from messaging import replies, schedule
from messaging.models import Channel, Direction, Kind, Message, Status
from messaging.services import send_due_messages

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SOONEST_REMINDERS = 4
ANSWERS = ("C", "R", "Can I come in the afternoon instead?")
PHONE_OFF = "30003"  # Twilio: unreachable destination handset


def seed_messages(*, today: dt.date, desk: User | None) -> None:
    """`followup.demo`'s step: the demo's message history (see above)."""
    at = history_moment(clock.now())
    _send_what_was_due(at)
    texts = list(
        Message.objects.filter(
            direction=Direction.OUT, channel=Channel.SMS, status=Status.SENT
        ).order_by("sent_at", "id")
    )
    reminded = [m for m in texts if m.kind == Kind.REMINDER]
    others = [m for m in texts if m.kind != Kind.REMINDER] or reminded[len(ANSWERS) :]
    # Twilio's word on them: one phone was off; the last one has no word yet.
    for message in texts[:-1]:
        off = bool(others) and message == others[0]
        replies.record_status(
            sid=message.provider_id,
            status="undelivered" if off else "delivered",
            error_code=PHONE_OFF if off else "",
            now=at + dt.timedelta(minutes=2),
        )
    for minutes, (message, body) in enumerate(zip(reminded, ANSWERS, strict=False)):
        replies.receive_sms(
            number=message.to,
            body=body,
            sid=f"SMdemo{message.pk:026d}",
            now=at + dt.timedelta(minutes=5 + minutes),
        )
    send_due_messages(now=at + dt.timedelta(minutes=20))


def history_moment(now: dt.datetime) -> dt.datetime:
    """When the demo's past round of sending happened: half an hour before
    `now`, or, when quiet hours hold then, an hour before they began."""
    quiet = schedule.quiet_hours()
    at = now - dt.timedelta(minutes=30)
    if quiet is None or not (quiet.holds(at) or quiet.holds(now)):
        return at
    wall = local(at)
    day = wall.date() if wall.time() >= quiet.begins else wall.date() - dt.timedelta(1)
    began = dt.datetime.combine(day, quiet.begins, clinic_zone())
    return began - dt.timedelta(hours=1)


def _send_what_was_due(at: dt.datetime) -> None:
    """Everything due by now, and the soonest visits' reminders, went out at
    `at`: due then, sent by the sender then."""
    now = clock.now()
    queued = Message.objects.filter(direction=Direction.OUT, status=Status.QUEUED)
    soonest = queued.filter(
        kind=Kind.REMINDER,
        channel=Channel.SMS,
        visit_start__gt=now + dt.timedelta(hours=1),
    ).order_by("visit_start", "id")
    picked = [
        *queued.filter(scheduled_for__lte=now).values_list("pk", flat=True),
        *soonest.values_list("pk", flat=True)[:SOONEST_REMINDERS],
    ]
    Message.objects.filter(pk__in=picked).update(scheduled_for=at, updated_at=at)
    from django.test.utils import override_settings  # the demo only

    # Those emails went out before the demo was running: nowhere to print.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    ):
        send_due_messages(now=at)
