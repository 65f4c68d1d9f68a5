"""What a visit change does to the offers, heard from
`followup.changes.visits_changed` inside its transaction.

- A booking that covers an open freed slot (same surgeon, overlapping
  time) refills it, whoever made it: the slot's pending offers close, the
  booked visit's own as claimed, the others as taken by another. The first
  claim through the link is such a booking, so a claim and the closing of
  the other offers commit together.
- A visit with a pending offer that is no longer waiting for a slot (booked
  elsewhere, cancelled), or whose patient withdrew consent, has it withdrawn.

Both read only the changed visits, a few thousand at a time (an import
passes tens of thousands), and cost nothing while no offer is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from django.db.models import DateTimeField, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce

from clinic import clock
from clinic.models import Reminders, texts_held
from core import db
from followup.models import AWAITING_BOOKING_STATUSES, SLOT_HOLDING_STATUSES, Visit
from offers.closing import close
from offers.models import FreedSlot, Offer, OfferStatus


def visits_changed(visit_ids: Collection[int]) -> None:
    """`followup.changes`' handler, on the clinic's clock."""
    now = clock.now()
    open_slots = FreedSlot.objects.filter(refilled_at=None, end__gt=now)
    if not open_slots.exists() and not Offer.objects.pending().exists():
        return
    for chunk in db.chunks(sorted(set(visit_ids))):
        _refill(chunk, now=now)
        _withdraw(chunk, now=now)


def _booked(visit_ids: Sequence[int]) -> Q:
    return Q(pk__in=visit_ids, status__in=SLOT_HOLDING_STATUSES)


def _refill(visit_ids: Sequence[int], *, now: dt.datetime) -> None:
    covering = Visit.objects.filter(
        _booked(visit_ids),
        surgeon_id=OuterRef("surgeon_id"),
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
    )
    refilled = FreedSlot.objects.filter(refilled_at=None, end__gt=now).filter(
        Exists(covering)
    )
    for freed in refilled.order_by("pk"):
        visit_id = (
            Visit.objects.filter(
                _booked(visit_ids),
                surgeon_id=freed.surgeon_id,
                start__lt=freed.end,
                end__gt=freed.start,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if visit_id is None:  # matched above: only for the type checker
            continue
        done = FreedSlot.objects.filter(pk=freed.pk, refilled_at=None).update(
            refilled_at=now,
            refilled_by_id=visit_id,
            offers_ended_at=Coalesce(
                F("offers_ended_at"), Value(now, output_field=DateTimeField())
            ),
        )
        if done:
            offers = Offer.objects.filter(freed_slot=freed)
            close(offers.filter(visit_id=visit_id), OfferStatus.CLAIMED, now=now)
            close(offers, OfferStatus.TAKEN, now=now)


def _withdraw(visit_ids: Sequence[int], *, now: dt.datetime) -> None:
    moot = (
        Offer.objects.filter(visit_id__in=visit_ids)
        .pending()
        .filter(
            ~Q(visit__status__in=AWAITING_BOOKING_STATUSES)
            | Q(patient__reminders=Reminders.NONE)
            | (Q(patient__reminders=Reminders.SMS) & texts_held("patient__"))
        )
    )
    close(moot, OfferStatus.WITHDRAWN, now=now)
