"""The sender: `send_due_messages(now)`, which the beat task and
`manage.py send_due_messages` both run.

Due messages are claimed a batch at a time (`BATCH`), in one transaction:
their visits are read again under a lock (`FOR NO KEY UPDATE`), then the
messages themselves are locked and each one claimed by a conditional update
(`queued` to `sent`, or to `cancelled` when its visit or patient is no
longer what it was written for, or its number replied STOP). Both locks
skip rows another transaction holds (`SKIP LOCKED`): two senders at once
(two workers, a beat run that overlaps the last) take different batches
instead of queueing behind each other, and a message whose visit a booking
change holds is left for the next run, which reads the visit as that
change left it. Locks are taken visit first, message second, as the
booking changes take them, and never waited for, so nothing deadlocks.

The provider is called after that commit, one message at a time (the
batch's emails through one SMTP session), so a crash between the two loses
the batch's unsent messages (each `sent` with no provider id), never sends
one twice. A transient failure (the provider could not be reached, or said
it is busy) puts it back in the queue with a backoff
(`MESSAGE_MAX_ATTEMPTS` in all); a permanent one is `failed` with the
provider's reason. A request the provider got but never answered in time
may have been sent: it stays `sent`, with the reason, never sent again.

A text with the booking link (`{{ link }}`, stored as
`schedule.LINK_PLACEHOLDER`) gets the visit's live link in the claim's
transaction, under the visit's lock, the batch's links found at once
(`booking_links.services.link_urls_for`, which makes one where none is
live): the link goes to the provider, never into the message row or a log
line.

In quiet hours (`MESSAGE_QUIET_HOURS`) nothing is sent: what is due moves
to the end of them, also when a run reaches them (checked before each
batch, so a run overruns them by one batch at most).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from booking_links import services as booking_links
from followup.exceptions import DomainError
from followup.models import Visit
from messaging import providers, schedule
from messaging.models import Channel, Message, SmsOptOut, Status
from messaging.outbox import address_of, held_because

logger = logging.getLogger(__name__)
# Messages claimed in one transaction. A crash between the claim and the
# sends loses at most this many (each `sent`, with no provider id).
BATCH = 20
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


def _wall_clock_since() -> Callable[[], dt.timedelta]:
    started = time.monotonic()
    return lambda: dt.timedelta(seconds=time.monotonic() - started)


def send_due_messages(
    *, now: dt.datetime, running: Callable[[], dt.timedelta] | None = None
) -> SendReport:
    """Send every message due at `now`, each exactly once.

    A run is never in the quiet hours: begun in them, it holds what is due
    to their end; reaching them (a backlog begun at 19:59), it stops between
    two batches and holds the rest likewise. `running`: how long the run
    has been going, by the wall clock unless a test says.
    """
    running = running or _wall_clock_since()
    report = SendReport()
    after: Q = Q()  # keyset pagination: each run reads each message once
    while True:
        moment = now + running()
        morning = schedule.sending_time(moment)
        if morning != moment:  # quiet hours
            report.postponed = Message.objects.due(now).update(
                scheduled_for=morning, updated_at=moment
            )
            return report
        batch = list(
            Message.objects.due(now)
            .filter(after)
            .order_by("scheduled_for", "id")
            .values_list("scheduled_for", "pk", "visit_id")[:BATCH]
        )
        if not batch:
            return report
        last_time, last_id, _ = batch[-1]
        after = Q(scheduled_for__gt=last_time) | Q(
            scheduled_for=last_time, pk__gt=last_id
        )
        claimed = _claim([(pk, visit_id) for _, pk, visit_id in batch], now=now)
        with providers.batch():
            for message, text in claimed:
                outcome = _send(message, text=text, now=now)
                report.outcomes[message.pk] = outcome
                setattr(report, outcome, getattr(report, outcome) + 1)
        if len(batch) < BATCH:
            return report  # that was the last of them


def _send(message: Message, *, text: str, now: dt.datetime) -> str:
    """Send one claimed message, saying `text`; what became of it ("sent", "cancelled",
    "failed", "retrying")."""
    if message.status == Status.CANCELLED:
        return "cancelled"
    try:
        provider_id = providers.send(message, text=text)
    except providers.Permanent as exc:
        return _finish(message, status=Status.FAILED, error=str(exc), now=now)
    except providers.Transient as exc:
        return _retry(message, str(exc), now=now)
    except providers.Unconfirmed as exc:
        # As a crash after the claim: `sent`, with no provider id, never
        # twice. The reason stays on the message for the desk to see.
        Message.objects.filter(pk=message.pk).update(error=str(exc)[:500])
        logger.warning(
            "Message %s: %s", message.pk, exc, extra={"message_id": message.pk}
        )
        return "sent"
    Message.objects.filter(pk=message.pk).update(provider_id=provider_id[:100])
    logger.info("Message %s sent", message.pk, extra={"message_id": message.pk})
    return "sent"


@transaction.atomic
def _claim(
    batch: list[tuple[int, int | None]], *, now: dt.datetime
) -> list[tuple[Message, str]]:
    """Claim the batch's messages that no other transaction holds: each one
    `sent` (to be sent now) or `cancelled` (with the reason), by
    conditional update. The claimed messages, in the batch's order, each
    with the text that goes out."""
    visit_ids = sorted({visit_id for _, visit_id in batch if visit_id is not None})
    # The visits' locks: a booking change in flight holds its visit, and its
    # messages wait for the next run.
    visits = {
        visit.pk: visit
        for visit in Visit.objects.select_for_update(no_key=True, skip_locked=True)
        .filter(pk__in=visit_ids)
        .order_by("pk")
    }
    free = [pk for pk, visit_id in batch if visit_id is None or visit_id in visits]
    messages = list(
        Message.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("patient")
        .filter(pk__in=free, status=Status.QUEUED)
        .order_by("scheduled_for", "id")
    )
    numbers = [m.to for m in messages if m.channel == Channel.SMS]
    opted_out = set(
        SmsOptOut.objects.filter(phone__in=numbers).values_list("phone", flat=True)
    )
    why_not = {
        message.pk: _why_not(message, _visit_of(message, visits), opted_out, now)
        for message in messages
    }
    # The links of the visits whose messages go now and carry one, at once.
    linked = {
        message.visit_id: visits[message.visit_id]
        for message in messages
        if not why_not[message.pk]
        and message.visit_id in visits
        and schedule.LINK_PLACEHOLDER in message.text
    }
    urls = booking_links.link_urls_for(linked.values(), now=now) if linked else {}
    reasons: dict[str, list[Message]] = {}
    texts: dict[int, str] = {}
    for message in messages:
        reason = why_not[message.pk]
        if not reason:
            texts[message.pk], reason = _text_with_link(message, urls)
        reasons.setdefault(reason, []).append(message)
    for reason, group in reasons.items():
        _mark_claimed(group, reason=reason, now=now)
    return [(message, texts.get(message.pk, "")) for message in messages]


def _why_not(
    message: Message, visit: Visit | None, opted_out: set[str], now: dt.datetime
) -> str:
    """Why `message` must not be sent now; empty when it may."""
    if message.send_until is not None and now >= message.send_until:
        return "What it offers had ended before it could be sent."
    if visit is not None:
        reason = schedule.still_applies(message, visit, now)
        if reason:
            return reason
    patient = message.patient
    if patient is not None and (
        message.channel != patient.reminders or message.to != address_of(patient)
    ):
        held = held_because(patient, message.to)
        return held or "The patient's consent or contact details changed."
    if message.channel == Channel.SMS and message.to in opted_out:
        return OPTED_OUT
    return ""


def _visit_of(message: Message, visits: dict[int, Visit]) -> Visit | None:
    return visits.get(message.visit_id) if message.visit_id else None


def _text_with_link(
    message: Message, urls: dict[int, str | DomainError]
) -> tuple[str, str]:
    """The text that goes out: the stored one with its visit's live booking
    link (`urls`, by visit) in place of `schedule.LINK_PLACEHOLDER` (the
    token is never stored); and why it cannot go, when the visit has
    nothing to book."""
    url = urls.get(message.visit_id) if message.visit_id else None
    if schedule.LINK_PLACEHOLDER not in message.text or url is None:
        return message.text, ""
    if isinstance(url, DomainError):
        return "", f"No booking link to send: {url.message}"
    return schedule.with_link(message.text, url), ""


def _mark_claimed(group: list[Message], *, reason: str, now: dt.datetime) -> None:
    """The claim: `queued` to `sent` (no reason) or `cancelled`, only where
    still queued. The rows are locked, so every one is claimed; a count
    that differs rolls the whole batch back, sending nothing."""
    status = Status.CANCELLED if reason else Status.SENT
    tried = 0 if reason else 1
    claimed = Message.objects.filter(
        pk__in=[m.pk for m in group], status=Status.QUEUED
    ).update(
        status=status,
        sent_at=None if reason else now,
        error=reason,
        attempts=F("attempts") + tried,
        updated_at=now,
    )
    if claimed != len(group):
        raise RuntimeError(
            f"Claimed {claimed} of {len(group)} locked messages; nothing sent."
        )
    for message in group:
        message.status, message.attempts = status, message.attempts + tried


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
