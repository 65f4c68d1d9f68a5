"""No wrong message, ever: 90 days of a clinic of 10,000 visits, and every
message checked against what the clinic was when it went (issue 20's
simulation bar).

The world and the people in it are tests/messaging/simulation.py: a
seeded random front desk and patients acting through the real services,
across the change to summer time, with a few changes that bypass the
outbox. The clock jumps from each change to the next, and to every minute
at which a message is due, where it runs the sender (`send_due_messages`)
with that `now`, as beat would that minute; nothing is sent in between.
Texts go to the loopback Twilio stand-in and emails to a real SMTP server
(aiosmtpd), both on loopback, as in production but for the address.

Afterwards, over every message that went out: its visit was, at that
moment, what the message was written for (state, slot and sequence; a
reminder's visit booked at that slot and not yet begun); it did not go in
the quiet hours on the clinic's wall clock; it went once (one provider id
each, and each stand-in received it once, and no two messages in a row for
the same occasion); its patient had agreed to that channel and address, and its
number had not replied STOP without START since.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from booking_links.models import BookingLink
from clinic.clock import local
from core.tokens import hash_token
from followup.models import Visit, VisitStatus
from messaging.models import Channel, Direction, Kind, Message, Status
from messaging.schedule import LINK_PLACEHOLDER
from messaging.services import OPTED_OUT, send_due_messages
from offers.models import Offer
from tests.messaging import stand_ins
from tests.messaging.conftest import Clock
from tests.messaging.simulation import (
    DST_CHANGE,
    END,
    HOURS,
    Clinic,
    Truth,
    VisitState,
    import_clinic,
)

# Each change commits, as in production: inside one long transaction no
# row version could ever be pruned, and the sender's scan of the queue (by
# due time) would wade through every message already sent.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # Minutes: under pytest-xdist it starts first (tests/conftest.py).
    pytest.mark.long,
]
SEED = 20_270_328
MINUTE = dt.timedelta(minutes=1)
QUIET_BEGINS, QUIET_ENDS = dt.time(20), dt.time(9)
WENT_OUT = (Status.SENT, Status.DELIVERED)
# About half of what this seed goes through: a change elsewhere may move
# the figures, but a run that exercises little fails.
FLOORS = {
    "sent_invitation": 1_900,
    "sent_reminder": 550,
    "sent_overdue": 1_600,
    "sent_reply": 30,
    "sent_by_email": 1_600,
    "sent_before_dst": 2_300,
    "sent_after_dst": 1_800,
    "evening_reminders_held": 35,
    "postponed": 650,
    "cancelled_at_send_visit_changed": 15,
    "cancelled_at_send_consent": 10,
    "cancelled_at_send_stop": 50,
    "book": 600,
    "reschedule": 100,
    "unbook": 40,
    "cancel": 120,
    "no_show": 70,
    "complete": 20,
    "text": 160,
    "consent": 40,
}


def next_tick(after: dt.datetime) -> dt.datetime | None:
    """The first minute, later than `after`, at which a message is due."""
    with connection.cursor() as cursor:
        # Asked before every step: plain SQL, on the sender's own index.
        cursor.execute(
            "SELECT min(scheduled_for) FROM messaging_message"
            " WHERE status = %s AND direction = %s",
            [Status.QUEUED, Direction.OUT],
        )
        (due,) = cursor.fetchone() or (None,)
    if due is None:
        return None
    minute = due.replace(second=0, microsecond=0)
    if minute < due:
        minute += MINUTE
    return max(minute, after + MINUTE)


def simulate(clinic: Clinic) -> Counter[str]:
    """Run the clinic to END: each change, and each minute something is due."""
    figures: Counter[str] = Counter()
    last = clinic.clock.moment
    while True:
        tick, change = next_tick(last), clinic.next_at()
        if change is not None and (tick is None or change < tick):
            clinic.run_next()
            continue
        if tick is None or tick >= END:
            return figures
        clinic.clock.moment = last = tick
        report = send_due_messages(now=tick)
        figures["ticks"] += 1
        figures["postponed"] += report.postponed
        sent = [pk for pk, outcome in report.outcomes.items() if outcome == "sent"]
        texts = Message.objects.filter(pk__in=sent, channel=Channel.SMS)
        clinic.after_sends(list(texts.values_list("kind", "to")), tick)


def in_quiet_hours(moment: dt.datetime) -> bool:
    time = local(moment).time()
    return time >= QUIET_BEGINS or time < QUIET_ENDS


def wrong_visit(message: Message, truth: Truth) -> str:
    """Why the message's visit, as it was when it went, makes it wrong."""
    assert message.sent_at is not None and message.visit_id is not None
    state = truth.visits[message.visit_id].at(message.sent_at)
    written = VisitState(
        message.visit_status, message.visit_start, message.visit_sequence or 0
    )
    if not isinstance(state, VisitState) or state != written:
        return f"its visit was {state}, not {written} as written"
    kind, status = message.kind, state.status
    if kind == Kind.REMINDER and (
        status != VisitStatus.BOOKED
        or not state.start
        or message.sent_at >= state.start
    ):
        return f"a reminder for a visit {status} at {state.start}"
    if kind == Kind.INVITATION and status != VisitStatus.TO_BOOK:
        return f"an invitation for a visit {status}"
    if kind == Kind.OVERDUE and status not in (
        VisitStatus.TO_BOOK,
        VisitStatus.NO_SHOW,
    ):
        return f"an overdue message for a visit {status}"
    return ""


def wrong_message(message: Message, truth: Truth) -> str:
    """Why `message`, which went out, should not have; empty when right."""
    at = message.sent_at
    if at is None or not message.provider_id:
        return "it went out without a time or a provider id"
    if in_quiet_hours(at):
        return f"it went at {local(at):%Y-%m-%d %H:%M %Z}, in the quiet hours"
    assert message.patient_id is not None
    consent = truth.consent[message.patient_id].at(at)
    if consent != (message.channel, message.to):
        return f"the patient's consent was {consent}, not {message.channel}"
    if message.channel == Channel.SMS and truth.stopped[message.to].at(at):
        return f"{message.to} had replied STOP"
    return wrong_visit(message, truth)


def occasion(message: Message, offers: dict[int, int]) -> tuple[object, ...]:
    """What a message is about (its visit and kind first): two in a row for
    the same one is one too many. A visit may be offered several freed
    slots: an offer's is its own."""
    if message.kind == Kind.OFFER:
        return (message.visit_id, message.kind, offers.get(message.pk))
    if message.kind == Kind.REMINDER:
        return (message.visit_id, message.kind, message.visit_start)
    if message.kind == Kind.INVITATION:
        return (message.visit_id, message.kind, message.visit_window_start)
    return (message.visit_id, message.kind, message.visit_status, message.visit_start)


def sent_twice(
    went: list[Message],
    twilio: stand_ins.TwilioStandIn,
    mailbox: stand_ins.Mailbox,
) -> list[str]:
    problems = []
    ids = Counter(m.provider_id for m in went)
    problems += [f"provider id {pid} kept {n} times" for pid, n in ids.items() if n > 1]
    offers = dict(Offer.objects.exclude(message=None).values_list("message_id", "pk"))
    # Of each visit's messages of a kind, in the order they went: the same
    # occasion twice in a row is once too many. Again after another (a visit
    # moved away and back, each reminder sent) is what the patient must hear.
    told: dict[tuple[object, ...], tuple[object, ...]] = {}
    for message in sorted(went, key=lambda m: (m.sent_at, m.pk)):
        if message.kind != Kind.REPLY:
            key = occasion(message, offers)
            if told.get(key[:2]) == key:
                problems.append(f"{key} went twice in a row")
            told[key[:2]] = key
    texts = [m for m in went if m.channel == Channel.SMS]
    calls = {f"SM{n:032x}": call for n, call in enumerate(twilio.requests, 1)}
    if len(calls) != len(texts):
        problems.append(f"Twilio got {len(calls)} texts for {len(texts)} sent")
    links = set(BookingLink.objects.values_list("visit_id", "token_hash"))
    for text in texts:
        call = calls.get(text.provider_id, {})
        if call.get("To") != text.to or not went_as(text, call.get("Body", ""), links):
            problems.append(f"text {text.pk} is not what Twilio got")
    got = Counter(
        (match.group(1).strip(), tuple(to))
        for to, text in mailbox.received
        if (match := re.search(r"^Message-ID: (.+)$", text, re.MULTILINE))
    )
    emails = Counter((m.provider_id, (m.to,)) for m in went if m.channel == "email")
    if got != emails or len(mailbox.received) != emails.total():
        problems.append(
            f"the SMTP server got {got.total()} emails for {emails.total()}"
        )
    return problems


def went_as(message: Message, body: str, links: set[tuple[int, str]]) -> bool:
    """Whether `body` is the stored text, its link placeholder (if any) a
    booking link of the message's own visit."""
    if LINK_PLACEHOLDER not in message.text:
        return body == message.text
    link = r"https?://\S+/p/([A-Za-z0-9_-]{43})/"
    shape = re.escape(message.text).replace(re.escape(LINK_PLACEHOLDER), link)
    match = re.fullmatch(shape, body)
    return match is not None and all(
        (message.visit_id, hash_token(token)) in links for token in match.groups()
    )


def sent_on(message: Message) -> dt.datetime:
    assert message.sent_at is not None
    return local(message.sent_at)


def coverage(went: list[Message], figures: Counter[str]) -> Counter[str]:
    """What the run went through, so that a quiet run cannot pass."""
    cancelled = Counter(
        Message.objects.filter(status=Status.CANCELLED).values_list("error", flat=True)
    )
    evening = [m.visit_start for m in went if m.kind == Kind.REMINDER]
    return Counter(
        {
            **{f"sent_{kind}": n for kind, n in Counter(m.kind for m in went).items()},
            "sent_by_email": sum(m.channel == Channel.EMAIL for m in went),
            "sent_before_dst": sum(sent_on(m).date() < DST_CHANGE for m in went),
            "sent_after_dst": sum(sent_on(m).date() > DST_CHANGE for m in went),
            # Reminders of visits at 20:00 or later: due in the quiet hours.
            "evening_reminders_held": sum(
                start is not None and local(start).time() >= QUIET_BEGINS
                for start in evening
            ),
            "cancelled_at_send_visit_changed": cancelled[
                "The visit changed after this message was written."
            ],
            "cancelled_at_send_consent": cancelled[
                "The patient's consent or contact details changed."
            ],
            "cancelled_at_send_stop": cancelled[OPTED_OUT],
            **figures,
        }
    )


def test_ninety_days_of_changes_send_no_wrong_message(
    settings: SettingsWrapper,
    pinned: Clock,
    front_desk: User,
    twilio: stand_ins.TwilioStandIn,
    mailbox: stand_ins.Mailbox,
) -> None:
    settings.CLINIC_HOURS = HOURS
    with connection.cursor() as cursor:
        # A throwaway test database: commits need not wait for the disk.
        cursor.execute("SET synchronous_commit TO off")
    rng = random.Random(SEED)
    import_clinic(rng, pinned)
    assert Visit.objects.count() == 10_000
    clinic = Clinic(rng=rng, clock=pinned, desk=front_desk)
    clinic.begin()

    figures = simulate(clinic)

    went = list(
        Message.objects.filter(direction=Direction.OUT, status__in=WENT_OUT).order_by(
            "sent_at", "pk"
        )
    )
    wrong = [
        f"message {m.pk} ({m.kind} by {m.channel}): {why}"
        for m in went
        if (why := wrong_message(m, clinic.truth))
    ]
    assert wrong == [], f"{len(wrong)} wrong messages, e.g. {wrong[:10]}"
    twice = sent_twice(went, twilio, mailbox)
    assert twice == [], twice[:10]
    seen = coverage(went, figures + clinic.stats)
    print(f"simulation: {len(went)} messages went out; {dict(sorted(seen.items()))}")
    thin = {name: seen[name] for name, floor in FLOORS.items() if seen[name] < floor}
    assert thin == {}, f"the run went through too little of these: {thin}"
