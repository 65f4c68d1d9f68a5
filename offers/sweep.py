"""The beat task's work: unclaimed offers expire, and the next batch is
offered while the slot is still far enough ahead.

Each freed slot whose offers are all closed, still open and unrefilled, is
locked (`skip_locked`: a second sweep at the same moment passes it by) and
read again before its next batch, so two sweeps never offer it twice. A
slot now nearer than `OFFER_MIN_LEAD_HOURS` is offered no more. A slot
nobody fits now is tried again at the next sweep: a patient offered
another slot yesterday may be offered this one today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef

from offers import limits
from offers.batches import offer_batch
from offers.closing import close
from offers.models import FreedSlot, Offer, OfferStatus


@dataclass
class SweepReport:
    expired: int = 0
    offered: int = 0
    ended: int = 0

    def __str__(self) -> str:
        return f"expired={self.expired} offered={self.offered} ended={self.ended}"


def sweep_offers(*, now: dt.datetime) -> SweepReport:
    """Expire what is due at `now`, then offer the next batches."""
    report = SweepReport()
    with transaction.atomic():
        due = Offer.objects.filter(expires_at__lte=now)
        report.expired = close(due, OfferStatus.EXPIRED, now=now)
    pending = Offer.objects.pending().filter(freed_slot=OuterRef("pk"))
    waiting = (
        FreedSlot.objects.filter(
            offered=True, refilled_at=None, offers_ended_at=None, start__gt=now
        )
        .exclude(Exists(pending))
        .order_by("start", "pk")
        .values_list("pk", flat=True)
    )
    for freed_id in list(waiting):
        made, ended = _next_batch(freed_id, now=now)
        report.offered += made
        report.ended += ended
    return report


@transaction.atomic
def _next_batch(freed_id: int, *, now: dt.datetime) -> tuple[int, int]:
    """The slot's next batch: (offers made, 1 if its offers ended)."""
    freed = (
        FreedSlot.objects.select_for_update(skip_locked=True)
        .select_related("surgeon", "visit")
        .filter(pk=freed_id, refilled_at=None, offers_ended_at=None)
        .first()
    )
    if freed is None or freed.offers.pending().exists():
        return 0, 0
    if not limits.far_enough(freed.start, now):
        freed.offers_ended_at = now
        freed.save(update_fields=["offers_ended_at"])
        return 0, 1
    return len(offer_batch(freed, now=now)), 0
