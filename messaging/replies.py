"""A patient's texts back, and Twilio's word on what it delivered.

`receive_sms` records every inbound text as a `Message` (direction `in`,
status `received`, kind `reply`) and acts on its first word, case and accents
ignored (SPEC section 8's table). A reply answers the latest reminder or
offer sent to that number in the last `REPLY_WINDOW`: a number shared by two
patients (a family phone) answers the latest text sent to it, and a reply
changes that message's visit only, never another patient's. Its effects go
through the front desk's own services, with history naming the actor
"patient (SMS)":

- C / CONFIRM / YES / SI: the visit is confirmed, a thank-you is sent
  (once: confirming a confirmed visit again sends none);
- R / CHANGE: on the front desk's *Replies* list, and the visit's booking
  link is sent back (queued, due now: quiet hours still hold it);
- X / NO: the visit is unbooked (reason `patient_request`), on the call list;
- STOP and Twilio's other opt-out words: no text to that number until START
  (`SmsOptOut`; the sender refuses to send to it);
- anything else, or nothing to answer: `unclear`, on the *Replies* list;
  so is C, R or X from a number the desk found to reach someone else
  (`Patient.texts_held`), or one that is no longer the patient's phone:
  it changes no visit.

`record_status` moves a sent message to `delivered` or `failed` from Twilio's
status callback, a failure with Twilio's code in words.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from core.digits import ascii_number
from followup import services
from followup.exceptions import Conflict, DomainError, NotFound
from followup.models import Visit
from followup.models.authorship import PATIENT_SMS
from followup.services.staleness import STALE
from messaging import schedule
from messaging.models import (
    Channel,
    Direction,
    Intent,
    Kind,
    Message,
    SmsOptOut,
    Status,
    visit_as_written,
)
from messaging.providers import twilio_error_words

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

REPLY_WINDOW = dt.timedelta(days=14)
# Twilio's own opt-out and opt-in words; never ask a patient to reply CANCEL.
WORDS: dict[str, Intent] = {
    **dict.fromkeys(("C", "CONFIRM", "YES", "SI"), Intent.CONFIRM),
    **dict.fromkeys(("R", "CHANGE"), Intent.CHANGE),
    **dict.fromkeys(("X", "NO"), Intent.CANCEL),
    **dict.fromkeys(
        (
            "STOP",
            "STOPALL",
            "UNSUBSCRIBE",
            "END",
            "QUIT",
            "CANCEL",
            "REVOKE",
            "OPTOUT",
        ),
        Intent.OPT_OUT,
    ),
    **dict.fromkeys(("START", "UNSTOP"), Intent.OPT_IN),
}
# Replies that act on the visit of the message they answer.
ANSWERING = (Intent.CONFIRM, Intent.CHANGE, Intent.CANCEL)
# The longest body kept: Twilio's own limit for a long text.
MAX_BODY = 1600
THANK_YOU = (
    "Thank you, {{ given_name }}: your {{ visit }} on {{ day }} at {{ time }} "
    "is confirmed. To change it, call {{ clinic_phone }}."
)
# The answer to R / CHANGE; `{{ link }}` is put in when it is sent.
ANOTHER_TIME = (
    "{{ given_name }}, choose another time for your {{ visit }} here: {{ link }} "
    "Or call {{ clinic_phone }}."
)


def intent_of(body: str) -> Intent:
    """What a reply's first word means, case and accents ignored ("sí" is
    SI); trailing punctuation ("C.") too."""
    words = body.split()
    if not words:
        return Intent.UNCLEAR
    decomposed = unicodedata.normalize("NFKD", words[0])
    word = "".join(c for c in decomposed if c.isalnum()).upper()
    return WORDS.get(word, Intent.UNCLEAR)


def answered_message(number: str, now: dt.datetime) -> Message | None:
    """The latest reminder or offer texted to `number` in the last
    `REPLY_WINDOW`: what a reply from it answers."""
    return (
        Message.objects.filter(
            direction=Direction.OUT,
            channel=Channel.SMS,
            to=number,
            kind__in=(Kind.REMINDER, Kind.OFFER),
            status__in=(Status.SENT, Status.DELIVERED),
            sent_at__gte=now - REPLY_WINDOW,
            sent_at__lte=now,
        )
        .select_related("visit__rule", "visit__patient", "visit__surgeon")
        .order_by("-sent_at", "-id")
        .first()
    )


def _latest_to(number: str) -> Message | None:
    """The latest text of any kind sent to `number`: whose an opt-out is."""
    return (
        Message.objects.filter(direction=Direction.OUT, channel=Channel.SMS, to=number)
        .exclude(sent_at=None)
        .order_by("-sent_at", "-id")
        .first()
    )


@transaction.atomic
def receive_sms(*, number: str, body: str, sid: str, now: dt.datetime) -> Message:
    """Record and act on one inbound text; Twilio retrying the same
    `MessageSid` gets the reply already recorded."""
    already = Message.objects.filter(
        direction=Direction.IN, provider_id=sid[:100]
    ).first()
    if already is not None:
        return already
    intent = intent_of(body)
    answered = answered_message(number, now)
    if intent in ANSWERING and answered is None:
        intent = Intent.UNCLEAR
    about = answered if intent in ANSWERING else answered or _latest_to(number)
    reply = Message(
        visit_id=about.visit_id if about else None,
        patient_id=about.patient_id if about else None,
        direction=Direction.IN,
        channel=Channel.SMS,
        kind=Kind.REPLY,
        status=Status.RECEIVED,
        text=body[:MAX_BODY],
        to=number,
        provider_id=sid[:100],
        intent=intent,
        answers=answered if intent in ANSWERING else None,
        created_at=now,
        sent_at=now,
    )
    try:
        with transaction.atomic():
            reply.save(force_insert=True)
    except IntegrityError:  # the same text, recorded a moment ago by a retry
        return Message.objects.get(direction=Direction.IN, provider_id=sid[:100])
    with transaction.atomic():  # a refused effect leaves the reply recorded
        outcome = _act(reply, answered, now=now)
    if outcome != reply.outcome:
        reply.outcome = outcome[:300]
        reply.save(update_fields=["outcome", "intent", "updated_at"])
    logger.info(
        "SMS reply %s: %s", reply.pk, reply.intent, extra={"message_id": reply.pk}
    )
    return reply


def _act(reply: Message, answered: Message | None, *, now: dt.datetime) -> str:
    """Carry out what `reply` means; the outcome in words. A refused change
    (the visit moved since the reminder) makes the reply unclear."""
    intent = reply.intent
    if intent == Intent.OPT_OUT:
        SmsOptOut.objects.update_or_create(
            phone=reply.to, defaults={"at": now, "message": reply}
        )
        return "No more texts to this number until it replies START."
    if intent == Intent.OPT_IN:
        SmsOptOut.objects.filter(phone=reply.to).delete()
        return "Texts to this number are back on."
    if intent == Intent.UNCLEAR:
        if answered is None:
            return "No reminder or offer was texted to this number in the last 14 days."
        return "The reply is none of the words a text asks for."
    assert answered is not None and answered.visit is not None  # noqa: S101
    try:
        return _act_on_visit(reply, answered, now=now)
    except DomainError as exc:
        transaction.set_rollback(True)
        reply.intent = Intent.UNCLEAR
        return f"Nothing changed: {exc.message}"


CHANGED = "the visit changed after the text it answers was sent."
ALREADY_CONFIRMED = "The visit was already confirmed; no second thank-you."


def _act_on_visit(reply: Message, answered: Message, *, now: dt.datetime) -> str:
    visit = answered.visit
    assert visit is not None  # noqa: S101
    if visit.start != answered.visit_start or visit.status != answered.visit_status:
        raise DomainError(CHANGED)
    if visit.patient.texts_held and reply.to == visit.patient.phone:
        # Whoever has the number now is not known to be the patient.
        raise DomainError(
            "the front desk found this number to reach someone else, so a "
            "reply from it changes no visit."
        )
    if reply.to != visit.patient.phone:
        # Corrected since the text went: the old number (often one reported
        # wrong) reaches someone who is not known to be the patient.
        raise DomainError(
            "this number is no longer the patient's, so a reply from it "
            "changes no visit."
        )
    if reply.intent == Intent.CHANGE:
        _answer(visit, reply, ANOTHER_TIME, now=now)
        return "The patient asks for another time; the booking link is on its way."
    slot = answered.visit_start
    if slot is None:
        # An offer of a freed time: the visit has no booking to confirm or
        # give up, and the time goes to whoever books it through the link.
        raise DomainError(
            "the text it answers offered a free time, which is taken through "
            "its link or by the front desk, not by a reply."
        )
    if slot <= now:
        # Whether the patient came is the desk's to record (seen, missed).
        raise DomainError(
            "the visit's booked time had begun when the reply came, so it "
            "changes nothing; the front desk records whether the patient came."
        )
    if reply.intent == Intent.CONFIRM:
        return _confirm(visit, reply, slot, now=now)
    return _give_up(visit, now=now)


def _confirm(
    visit: Visit, reply: Message, slot: dt.datetime, *, now: dt.datetime
) -> str:
    """C: the visit confirmed, the patient thanked once."""
    # Read under the visit's lock, which confirm_visit takes again: of
    # two replies at once, the second sees the first's confirmation.
    already = (
        Visit.objects.select_for_update(of=("self",))
        .values_list("confirmed", flat=True)
        .get(pk=visit.pk)
    )
    visit = services.confirm_visit(
        visit_id=visit.pk, start=slot, actor=PATIENT_SMS, now=now
    )
    if already:
        # A patient who heard nothing yet (the thank-you waits out the
        # quiet hours) confirms again: one thank-you is enough.
        return ALREADY_CONFIRMED
    _answer(visit, reply, THANK_YOU, now=now)
    return "The visit is confirmed; a thank-you is on its way."


def _give_up(visit: Visit, *, now: dt.datetime) -> str:
    """X: the visit unbooked at the patient's request, on the call list."""
    try:
        # The visit as checked above, read before the service locks it: a
        # booking the desk moved in between is not the patient's to give up.
        services.unbook_visit(
            visit_id=visit.pk,
            actor=PATIENT_SMS,
            now=now,
            reason="The patient replied that they cannot come.",
            sequence=visit.sequence,
            patient_request=True,
        )
    except Conflict as exc:
        if exc.code != STALE:
            raise
        raise DomainError(CHANGED) from exc
    return "The visit is unbooked and on the call list."


def _answer(visit: Visit, reply: Message, text: str, *, now: dt.datetime) -> None:
    """Text `text` back to the number `reply` came from, due now (the sender
    holds it through quiet hours)."""
    Message.objects.create(
        visit=visit,
        patient_id=visit.patient_id,
        direction=Direction.OUT,
        channel=Channel.SMS,
        kind=Kind.REPLY,
        status=Status.QUEUED,
        text=schedule.render(text, visit),
        to=reply.to,
        scheduled_for=now,
        **visit_as_written(visit),
        created_at=now,
    )


# --- delivery statuses -------------------------------------------------------

DELIVERED = ("delivered", "read")
FAILED = ("failed", "undelivered")


def record_status(*, sid: str, status: str, error_code: str, now: dt.datetime) -> int:
    """Twilio's word on message `sid`: `delivered` or `failed` (with its code
    in words) for a message sent; any other status changes nothing. The
    number of messages changed (0: unknown sid, or already moved)."""
    sent = Message.objects.filter(
        direction=Direction.OUT, provider_id=sid, status=Status.SENT
    )
    if status in DELIVERED:
        return sent.update(status=Status.DELIVERED, delivered_at=now, updated_at=now)
    if status in FAILED:
        # Twilio's codes are five digits; anything else is no code.
        words = twilio_error_words(ascii_number(error_code, max_digits=9))
        return sent.update(status=Status.FAILED, error=words[:500], updated_at=now)
    return 0


# --- the front desk ------------------------------------------------------------


def resolve(*, message_id: int, actor: User, now: dt.datetime) -> Message:
    """Someone at the front desk dealt with a reply that needed a person (or
    a failed delivery). Refused (409) when someone already did, naming who;
    a message that needs nobody is not found."""
    rows = Message.objects.needing_person()
    done = rows.filter(pk=message_id, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, updated_at=now
    )
    message = rows.filter(pk=message_id).select_related("resolved_by").first()
    if message is None:
        raise NotFound(f"Reply {message_id} does not exist.", code="not_found")
    if not done:
        who = message.resolved_by.get_username() if message.resolved_by else "someone"
        raise Conflict(
            f"Already resolved by {who}.",
            code="already_resolved",
            params={"by": who, "at": message.resolved_at},
        )
    return message
