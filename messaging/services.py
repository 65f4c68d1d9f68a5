"""The sender: `send_due_messages(now)`, which the beat task and
`manage.py send_due_messages` both run.

Each due message is claimed by a conditional update (`queued` to `sent`,
zero rows: another worker has it), in one transaction with its visit read
again under a lock: a message whose visit or patient is no longer what it
was written for is `cancelled` there, never sent. The visit's lock orders
the claim after any booking change in flight, and a booking change after
the claim finds the message already sent. The provider is called after
that commit, so a crash between the two loses a message, never sends one
twice. A transient failure puts it back in the queue with a backoff
(`MESSAGE_MAX_ATTEMPTS` in all); a permanent one is `failed` with the
provider's reason.

A text with the booking link (`{{ link }}`, stored as
`schedule.LINK_PLACEHOLDER`) gets the visit's live link in the claim's
transaction, under the visit's lock (`booking_links.services.link_url_for`,
which makes one when none is live): the link goes to the provider, never
into the message row or a log line.

In quiet hours (`MESSAGE_QUIET_HOURS`) nothing is sent: what is due moves
to the end of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from booking_links import services as booking_links
from followup.exceptions import DomainError
from followup.models import Visit
from messaging import providers, schedule
from messaging.models import Channel, Message, SmsOptOut, Status
from messaging.outbox import address_of

logger = logging.getLogger(__name__)
BATCH = 100
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=1)
OPTED_OUT = "The number replied STOP: no texts to it until it replies START."


@dataclass
class SendReport:
    sent: int = 0
    cancelled: int = 0
    failed: int = 0
    retrying: int = 0
    postponed: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"sent={self.sent} cancelled={self.cancelled} failed={self.failed} "
            f"retrying={self.retrying} postponed={self.postponed}"
        )


def send_due_messages(*, now: dt.datetime) -> SendReport:
    """Send every message due at `now`, each exactly once."""
    report = SendReport()
    quiet = schedule.quiet_hours()
    if quiet is not None and quiet.holds(now):
        report.postponed = Message.objects.due(now).update(
            scheduled_for=quiet.next_morning(now), updated_at=now
        )
        return report
    after: Q = Q()  # keyset pagination: each run reads each message once
    while True:
        batch = list(
            Message.objects.due(now)
            .filter(after)
            .order_by("scheduled_for", "id")
            .values_list("scheduled_for", "pk")[:BATCH]
        )
        if not batch:
            return report
        last_time, last_id = batch[-1]
        after = Q(scheduled_for__gt=last_time) | Q(
            scheduled_for=last_time, pk__gt=last_id
        )
        for _, message_id in batch:
            outcome = send_one(message_id, now=now)
            if outcome:
                report.outcomes[message_id] = outcome
                setattr(report, outcome, getattr(report, outcome) + 1)


def send_one(message_id: int, *, now: dt.datetime) -> str:
    """Claim, check and send one message; what became of it ("sent",
    "cancelled", "failed", "retrying"), or "" when another worker has it."""
    claimed = _claim(message_id, now=now)
    if claimed is None:
        return ""
    message, text = claimed
    if message.status == Status.CANCELLED:
        return "cancelled"
    try:
        provider_id = providers.send(message, text=text)
    except providers.Permanent as exc:
        return _finish(message, status=Status.FAILED, error=str(exc), now=now)
    except providers.Transient as exc:
        return _retry(message, str(exc), now=now)
    Message.objects.filter(pk=message.pk).update(provider_id=provider_id[:100])
    logger.info("Message %s sent", message.pk, extra={"message_id": message.pk})
    return "sent"


@transaction.atomic
def _claim(message_id: int, *, now: dt.datetime) -> tuple[Message, str] | None:
    """The message claimed (`sent`, or `cancelled` with its reason) and the
    text that goes out; None when another worker has it."""
    message = (
        Message.objects.select_related("patient", "visit").filter(pk=message_id).first()
    )
    if message is None or message.status != Status.QUEUED:
        return None
    reason = _why_not(message, now=now)
    text = ""
    if not reason:
        text, reason = _text_with_link(message, now=now)
    status = Status.CANCELLED if reason else Status.SENT
    claimed = Message.objects.filter(pk=message_id, status=Status.QUEUED).update(
        status=status,
        sent_at=None if reason else now,
        error=reason,
        attempts=message.attempts + (0 if reason else 1),
        updated_at=now,
    )
    if not claimed:
        return None
    message.status, message.attempts = status, message.attempts + (0 if reason else 1)
    return message, text


def _why_not(message: Message, *, now: dt.datetime) -> str:
    """Why `message` must not go now; empty when it may."""
    if message.visit_id is not None:
        # The visit's lock waits for a booking change in flight to commit.
        visit = Visit.objects.select_for_update(no_key=True).get(pk=message.visit_id)
        reason = schedule.still_applies(message, visit, now)
        if reason:
            return reason
    patient = message.patient
    if patient is not None and (
        message.channel != patient.reminders or message.to != address_of(patient)
    ):
        return "The patient's consent or contact details changed."
    if (
        message.channel == Channel.SMS
        and SmsOptOut.objects.filter(phone=message.to).exists()
    ):
        return OPTED_OUT
    return ""


def _text_with_link(message: Message, *, now: dt.datetime) -> tuple[str, str]:
    """The text that goes out: the stored one with the visit's live booking
    link in place of `schedule.LINK_PLACEHOLDER` (the token is never
    stored); and why it cannot go, when the visit has nothing to book."""
    if schedule.LINK_PLACEHOLDER not in message.text or message.visit is None:
        return message.text, ""
    try:
        url = booking_links.link_url_for(message.visit, now=now)
    except DomainError as exc:
        return "", f"No booking link to send: {exc.message}"
    return schedule.with_link(message.text, url), ""


def _finish(message: Message, *, status: str, error: str, now: dt.datetime) -> str:
    Message.objects.filter(pk=message.pk, status=Status.SENT).update(
        status=status, sent_at=None, error=error[:500], updated_at=now
    )
    logger.warning(
        "Message %s failed: %s", message.pk, error, extra={"message_id": message.pk}
    )
    return "failed"


def _retry(message: Message, error: str, *, now: dt.datetime) -> str:
    limit = int(getattr(settings, "MESSAGE_MAX_ATTEMPTS", 5))
    if message.attempts >= limit:
        words = f"Gave up after {message.attempts} attempts: {error}"
        return _finish(message, status=Status.FAILED, error=words, now=now)
    wait = min(FIRST_RETRY * 2 ** (message.attempts - 1), LAST_RETRY)
    Message.objects.filter(pk=message.pk, status=Status.SENT).update(
        status=Status.QUEUED,
        sent_at=None,
        error=error[:500],
        next_attempt_at=now + wait,
        updated_at=now,
    )
    return "retrying"
