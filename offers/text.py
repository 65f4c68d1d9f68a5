"""The offer message: the slot, and the link to claim it (SPEC section 8).

Written to the outbox as a `Kind.OFFER` message on the patient's consented
channel, rendered now like every message (`messaging.schedule.render`). Its
`{{ link }}` is the visit's booking link, put in when the message is sent;
`?offer=<id>` after it opens the booking page with this slot first.
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats

from clinic.clock import local
from followup.models import Visit
from messaging import schedule
from messaging.models import Channel, Direction, Kind, Message, Status, visit_as_written
from messaging.outbox import address_of

SMS = (
    "{{ given_name }}, a time has come free for your {{ visit }}: [slot]. "
    "It goes to whoever books it first, until [until]: {{ link }}?offer=[offer] "
    "Or call {{ clinic_phone }}."
)
EMAIL_SUBJECT = "A time has come free for your {{ visit }}"
EMAIL = (
    "Hello {{ given_name }},\n\n"
    "A time has come free for your {{ visit }}: [slot].\n\n"
    "It goes to whoever books it first. To take it, open this link before "
    "[until]:\n{{ link }}?offer=[offer]\n\n"
    "If it does not suit you, do nothing: your other free times are on the "
    "same page.\n\nThe clinic, {{ clinic_phone }}"
)


def slot_words(start: dt.datetime, surgeon: str) -> str:
    """The slot as the message says it: "Fri 27 Nov 2026, 09:00 with Dr X"."""
    wall = local(start)
    said = f"{formats.date_format(wall, 'DATE_FORMAT')}, {wall:%H:%M}"
    return f"{said} with {surgeon}" if surgeon else said


def _fill(text: str, *, offer_id: int, slot: str, until: dt.datetime) -> str:
    """The offer's own facts, put in before the template is rendered (they
    hold no template syntax: dates, times and a number)."""
    ends = local(until)
    return (
        text.replace("[slot]", slot)
        .replace("[until]", f"{ends:%H:%M}")
        .replace("[offer]", str(offer_id))
    )


def offer_message(
    *,
    offer_id: int,
    visit: Visit,
    start: dt.datetime,
    surgeon: str,
    send_at: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> Message:
    """The offer's message, unsaved, on the channel the patient agreed to
    (the caller chose a patient who did: `batches.candidates`)."""
    patient = visit.patient
    channel = Channel(patient.reminders)
    body = SMS if channel == Channel.SMS else EMAIL
    slot = slot_words(start, surgeon)
    filled = _fill(body, offer_id=offer_id, slot=slot, until=until)
    return Message(
        visit=visit,
        patient=patient,
        direction=Direction.OUT,
        channel=channel,
        kind=Kind.OFFER,
        status=Status.QUEUED,
        subject=schedule.render(EMAIL_SUBJECT, visit)
        if channel == Channel.EMAIL
        else "",
        text=schedule.render(filled, visit),
        to=address_of(patient),
        scheduled_for=send_at,
        send_until=until,  # after the offer ends, never
        **visit_as_written(visit),
        created_at=now,
    )
