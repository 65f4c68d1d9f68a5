"""The outbox writer: the messages a visit change makes due, and the moot ones.

`MessagingConfig.ready` registers `visits_changed` with `followup.changes`,
which the follow-up services call inside the transaction of every visit
change (booking, reschedule, unbook, cancel, no-show, completion, a new
plan, a patient's corrected contact details). So the messages are written
and cancelled atomically with the change: a rolled-back booking leaves no
reminder behind.

For each visit, the messages it calls for now are worked out from the
schedule (`MessageTemplate`, on the patient's consented channel; `none`:
nothing). A queued message that no longer fits (written for another slot,
state, sequence, window, channel or address) is cancelled; one that fits
stays; a missing one is written, rendered now. When the last message of its
kind sent (or failed) was for the same occasion (the same slot for a
reminder, the same window for an invitation), it is not written again, so
a corrected name, which raises the visit's sequence, sends nothing twice;
a visit moved away and back after both reminders went is reminded again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

from django.utils import formats

from clinic import clock, phones
from clinic.models import Patient, Reminders
from core import db
from followup.models import Visit
from messaging import schedule
from messaging.models import (
    SCHEDULED_KINDS,
    Direction,
    Kind,
    Message,
    MessageTemplate,
    Status,
    visit_as_written,
)

MOOT = "No longer due: the visit or the patient's consent changed."


def visits_changed(visit_ids: Collection[int]) -> None:
    """`followup.changes`' handler: bring the visits' messages up to date,
    on the clinic's clock (`clinic.clock.now`, which tests pin)."""
    write_due_messages(visit_ids, now=clock.now())


def address_of(patient: Patient) -> str:
    """Where the patient agreed to be reached; empty: nowhere. A phone
    reported to reach someone else takes no text (`Patient.texts_held`)."""
    if patient.reminders == Reminders.SMS:
        return "" if patient.texts_held else patient.phone
    if patient.reminders == Reminders.EMAIL:
        return patient.email
    return ""


def held_because(patient: Patient, to: str) -> str:
    """Why no text goes to `to`, the patient's phone reported to reach
    someone else, in words; empty for any other address."""
    if to != patient.phone or not patient.texts_held or not patient.wrong_phone_at:
        return ""
    day = formats.date_format(clock.local(patient.wrong_phone_at), "DATE_FORMAT")
    return (
        f"Held: {phones.for_display(patient.phone)} was reported on {day} "
        "to reach someone else."
    )


def write_due_messages(visit_ids: Collection[int], *, now: dt.datetime) -> None:
    """Write the due messages of `visit_ids` and cancel the moot ones, a
    bounded number of queries per few thousand visits (an import passes
    tens of thousands at once)."""
    for chunk in db.chunks(sorted(set(visit_ids))):
        _write_due_messages(chunk, now=now)


def _write_due_messages(visit_ids: Sequence[int], *, now: dt.datetime) -> None:
    visits = list(
        Visit.objects.filter(pk__in=visit_ids).select_related(
            "patient", "surgeon", "rule"
        )
    )
    live: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(
        visit_id__in=visit_ids, direction=Direction.OUT, kind__in=SCHEDULED_KINDS
    ).exclude(status=Status.CANCELLED):
        assert message.visit_id is not None  # noqa: S101 - filtered on it
        live[message.visit_id].append(message)
    if not live and all(v.patient.reminders == Reminders.NONE for v in visits):
        return
    templates = [t for t in MessageTemplate.objects.all() if t.active]
    moot: dict[str, list[int]] = defaultdict(list)
    new: list[Message] = []
    for visit in visits:
        waiting = [m for m in live[visit.pk] if m.status == Status.QUEUED]
        for m in waiting:
            if not _fits(m, visit):
                moot[held_because(visit.patient, m.to) or MOOT].append(m.pk)
        written = {m.kind for m in waiting if _fits(m, visit)} | {
            kind
            for kind, m in _latest_gone(live[visit.pk]).items()
            if schedule.same_occasion(m, visit)
        }
        new += [m for m in _due(visit, templates, now) if m.kind not in written]
    for reason, ids in moot.items():
        Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            status=Status.CANCELLED, error=reason, updated_at=now
        )
    Message.objects.bulk_create(new, batch_size=500)


def _latest_gone(messages: Iterable[Message]) -> dict[str, Message]:
    """Of each kind, the message last written that is no longer queued (sent,
    delivered or failed): what the patient was last told, or tried.

    Only that one stands for its occasion. A visit moved from Monday to
    Tuesday and back, each reminder sent, gets a third: the last text the
    patient read says Tuesday, though a reminder for Monday went before.
    """
    latest: dict[str, Message] = {}
    for message in sorted(messages, key=lambda m: m.pk):
        if message.status != Status.QUEUED:
            latest[message.kind] = message
    return latest


def _fits(message: Message, visit: Visit) -> bool:
    """Whether `message` was written for the visit and patient as they are."""
    return (
        message.channel == visit.patient.reminders
        and message.to == address_of(visit.patient)
        and not schedule.visit_changed(message, visit)
    )


def _due(
    visit: Visit, templates: Iterable[MessageTemplate], now: dt.datetime
) -> list[Message]:
    """The messages `visit` calls for now, on its patient's channel, unsaved."""
    to = address_of(visit.patient)
    if not to:
        return []
    due = []
    for template in templates:
        if template.channel != visit.patient.reminders:
            continue
        moment = schedule.due_at(template, visit)
        if moment is None or moment < now - schedule.STALE_AFTER:
            continue
        message = _message(visit, template, to, max(moment, now), now)
        if not schedule.still_applies(message, visit, now):
            due.append(message)
    return due


def _message(
    visit: Visit,
    template: MessageTemplate,
    to: str,
    scheduled_for: dt.datetime,
    now: dt.datetime,
) -> Message:
    return Message(
        visit=visit,
        patient=visit.patient,
        direction=Direction.OUT,
        channel=template.channel,
        kind=Kind(template.kind),
        status=Status.QUEUED,
        subject=schedule.render(template.subject, visit),
        text=schedule.render(template.text, visit),
        to=to,
        scheduled_for=scheduled_for,
        **visit_as_written(visit),
        created_at=now,
    )
