"""Whom a freed slot is offered to, and the offers made, a batch at a time.

The candidates (SPEC section 8): the visits still to book, or after a
no-show, of the surgeon's patients, whose window holds the slot (an overdue
visit: whose late slots do, as the booking page would offer them); overdue
visits first, then the window closing soonest. A patient must have agreed
to messages (no consent, no offer; a number that replied STOP gets none),
hold no pending offer, have had no offer in the last 24 hours, and never
have been offered this freed slot. The patient who gave the slot back is
not offered it.

Each candidate's slot is then checked as the booking page would offer it
(`propose_slots`: its length, the sessions, the patient's own bookings), so
an offer is only made of a slot its patient could book now. The database
holds each patient to one pending offer: a candidate that a concurrent
batch offered a moment ago is passed over.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, Value, When

from booking_links.models import DAYS_AFTER_WINDOW
from clinic.clock import local_date
from clinic.models import Reminders, texts_held
from followup import services
from followup.exceptions import DomainError
from followup.models import AWAITING_BOOKING_STATUSES, Visit, VisitQuerySet
from followup.services.slots import LATE_BOOKING_DAYS
from messaging import schedule
from messaging.models import SmsOptOut
from offers import limits
from offers.models import FreedSlot, Offer
from offers.text import offer_message

# Candidates looked at per batch, in order, for each batch place.
SCAN_PER_PLACE = 5


def _reachable() -> Q:
    """Patients who agreed to messages, on a channel they can be reached by."""
    opted_out = SmsOptOut.objects.filter(phone=OuterRef("patient__phone"))
    sms = (
        Q(patient__reminders=Reminders.SMS)
        & ~Q(patient__phone="")
        & ~texts_held("patient__")
    )
    email = Q(patient__reminders=Reminders.EMAIL) & ~Q(patient__email="")
    return (sms & ~Exists(opted_out)) | email


def candidates(freed: FreedSlot, *, now: dt.datetime) -> VisitQuerySet:
    """The visits `freed` may be offered to, in the order they are offered."""
    today, day = local_date(now), local_date(freed.start)
    holds = Q(window_start__lte=day, window_end__gte=day)
    if day <= today + dt.timedelta(days=LATE_BOOKING_DAYS - 1):
        # Overdue, but not so long ago that its booking link has ended.
        long_ago = today - dt.timedelta(days=DAYS_AFTER_WINDOW)
        holds |= Q(window_end__lt=today, window_end__gte=long_ago)
    surgeon = Q(surgeon_id=freed.surgeon_id) | Q(
        surgeon__isnull=True, procedure__surgeon_id=freed.surgeon_id
    )
    offers = Offer.objects.filter(patient_id=OuterRef("patient_id"))
    busy = offers.filter(
        Q(status="pending")
        | Q(created_at__gt=now - limits.ONE_A_DAY)
        | Q(freed_slot=freed)
    )
    return (
        Visit.objects.filter(holds, surgeon, _reachable())
        .filter(status__in=AWAITING_BOOKING_STATUSES)
        .exclude(patient_id=freed.visit.patient_id)
        .exclude(Exists(busy))
        .annotate(
            on_time=Case(
                When(window_end__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("patient", "rule", "procedure")
        .order_by("on_time", "window_end", "due_date", "id")
    )


def fits(visit: Visit, freed: FreedSlot, *, now: dt.datetime) -> bool:
    """Whether the booking page would offer `visit` the freed slot now."""
    try:
        search = services.propose_slots(
            visit=visit, now=now, after=freed.start, limit=1
        )
    except DomainError:
        return False
    return bool(search.slots) and search.slots[0].start == freed.start


def offer_batch(freed: FreedSlot, *, now: dt.datetime) -> list[Offer]:
    """Offer `freed` to the next `OFFER_BATCH` candidates; none when it is
    too near, refilled, or nobody fits."""
    if freed.refilled_at is not None or not limits.far_enough(freed.start, now):
        return []
    size = limits.batch_size()
    number = 1 + (freed.offers.aggregate(last=Max("batch"))["last"] or 0)
    made: list[Offer] = []
    patients: set[int] = set()
    for visit in candidates(freed, now=now)[: size * SCAN_PER_PLACE]:
        if len(made) == size:
            break
        if visit.patient_id in patients or not fits(visit, freed, now=now):
            continue
        offer = _make_offer(freed, visit, batch=number, now=now)
        if offer is not None:
            made.append(offer)
            patients.add(visit.patient_id)
    return made


def _make_offer(
    freed: FreedSlot, visit: Visit, *, batch: int, now: dt.datetime
) -> Offer | None:
    """One offer and its message; None when the patient was offered another
    slot a moment ago (the database's one-pending-offer rule)."""
    send_at = schedule.sending_time(now)  # now, or when quiet hours end
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                freed_slot=freed,
                visit=visit,
                patient_id=visit.patient_id,
                batch=batch,
                created_at=now,
                expires_at=send_at + limits.hold(),
            )
    except IntegrityError:
        return None
    message = offer_message(
        offer_id=offer.pk,
        visit=visit,
        start=freed.start,
        surgeon=str(freed.surgeon),
        send_at=send_at,
        until=offer.expires_at,
        now=now,
    )
    message.save(force_insert=True)
    offer.message = message
    offer.save(update_fields=["message"])
    return offer
