"""Closing offers: claimed, taken by another, expired or withdrawn, and
their messages not yet sent cancelled with them.

Each close is a conditional update of pending offers (zero rows: someone
closed them first), their rows locked in id order so that two closings of
overlapping offers wait for each other rather than deadlock.
"""

from __future__ import annotations

import datetime as dt

from messaging.models import Message, Status
from offers.models import Offer, OfferQuerySet, OfferStatus

WHY = {
    OfferStatus.CLAIMED: "The offer was claimed.",
    OfferStatus.TAKEN: "Someone else booked the offered time first.",
    OfferStatus.EXPIRED: "The offer ended before it could be sent.",
    OfferStatus.WITHDRAWN: "The offer no longer applies: the visit, the "
    "patient's consent or their number changed.",
}


def close(offers: OfferQuerySet, status: OfferStatus, *, now: dt.datetime) -> int:
    """Close the pending ones of `offers` as `status`; how many."""
    locked = list(
        offers.pending()
        .order_by("pk")
        .select_for_update(of=("self",))
        .values_list("pk", "message_id")
    )
    if not locked:
        return 0
    ids = [pk for pk, _ in locked]
    closed = Offer.objects.filter(pk__in=ids, status=OfferStatus.PENDING).update(
        status=status, closed_at=now
    )
    messages = [message for _, message in locked if message is not None]
    Message.objects.filter(pk__in=messages, status=Status.QUEUED).update(
        status=Status.CANCELLED, error=WHY[status], updated_at=now
    )
    return closed
