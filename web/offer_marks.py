"""An offer of a freed slot as the front desk sees it: a compact mark on a
visit's row (the worklist, a visit's page), and the patient page's list.

The row's mark is the visit's latest offer made in the last `MARK_DAYS`,
read in the rows' own select (`with_offer_mark`: subqueries, no query of
its own). A pending offer past its end reads as expired before the sweep
says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import OuterRef, QuerySet, Subquery

from clinic.clock import local
from followup.models import Visit
from offers.models import Offer, OfferStatus

# A row shows an offer made this many days ago at most.
MARK_DAYS = 7
# The mark's words, by state.
MARK_WORDS = {
    OfferStatus.PENDING: "Offer pending",
    OfferStatus.CLAIMED: "Offer claimed",
    OfferStatus.TAKEN: "Offer taken by another",
    OfferStatus.EXPIRED: "Offer expired",
    OfferStatus.WITHDRAWN: "Offer withdrawn",
}

Q = TypeVar("Q", bound=QuerySet[Visit])


def with_offer_mark(visits: Q, *, now: dt.datetime) -> Q:
    """`visits` with their latest recent offer's state, slot and end."""
    latest = Offer.objects.filter(
        visit=OuterRef("pk"), created_at__gte=now - dt.timedelta(days=MARK_DAYS)
    ).order_by("-created_at", "-pk")
    return visits.annotate(  # type: ignore[return-value]
        offer_status=Subquery(latest.values("status")[:1]),
        offer_expires_at=Subquery(latest.values("expires_at")[:1]),
        offer_start=Subquery(latest.values("freed_slot__start")[:1]),
    )


@dataclass(frozen=True)
class OfferMark:
    state: str
    start: dt.datetime  # the slot offered, clinic time
    expires_at: dt.datetime  # clinic time

    @property
    def words(self) -> str:
        return MARK_WORDS[OfferStatus(self.state)]

    @property
    def pending(self) -> bool:
        return self.state == OfferStatus.PENDING


def state_at(status: str, expires_at: dt.datetime, now: dt.datetime) -> str:
    """An offer's state at `now`: pending past its end is expired."""
    if status == OfferStatus.PENDING and expires_at <= now:
        return OfferStatus.EXPIRED
    return status


def offer_mark(visit: Visit, now: dt.datetime) -> OfferMark | None:
    """The row's mark, from `with_offer_mark`'s annotations; None without."""
    status = getattr(visit, "offer_status", None)
    if not status:
        return None
    expires_at: dt.datetime = visit.offer_expires_at  # type: ignore[attr-defined]
    start: dt.datetime = visit.offer_start  # type: ignore[attr-defined]
    return OfferMark(state_at(status, expires_at, now), local(start), local(expires_at))
