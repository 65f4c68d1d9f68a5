"""Claiming an offer through the booking link.

The claim link is the visit's booking link with `?offer=<id>`: the page
shows that slot first (`offer_on_page`). A claim is the link's own booking
(`booking_links.services.book_through_link`: the window, the sessions, the
exclusion constraints and the transition times all hold), made only while
the offer is pending and for its very slot. The first claim books the
slot, and its booking closes the slot's other offers as taken
(`offers.bookkeeping`), in one transaction. A claim that loses the race is
refused as taken; its offer is closed (it already is, by the winner's
booking; withdrawn when the slot stopped fitting the visit otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from booking_links.models import BookingLink
from booking_links.services import book_through_link
from clinic.clock import local
from core.digits import ascii_number
from followup.exceptions import Conflict, InvalidInput
from followup.models import Visit
from offers.closing import close
from offers.models import FreedSlot, Offer, OfferStatus

# An offer id as a query parameter or a form field: digits, this long at most.
MAX_ID_DIGITS = 18
LOST = ("slot_taken", "slot_not_offered")


@dataclass(frozen=True)
class OfferOnPage:
    """The offer as the patient's page shows it."""

    pk: int
    start: dt.datetime  # clinic time
    surgeon: str
    state: str
    expires_at: dt.datetime  # clinic time

    @property
    def open(self) -> bool:
        return self.state == OfferStatus.PENDING

    @property
    def value(self) -> str:
        """What its form posts as `start`."""
        return self.start.isoformat()


def offer_id_of(value: str | None) -> int | None:
    """An offer id from the page's query or form; None when not one."""
    return ascii_number(value, max_digits=MAX_ID_DIGITS)


def _offer(link: BookingLink, offer_id: int | None) -> Offer | None:
    """The link's visit's offer `offer_id`: another visit's is none."""
    if offer_id is None:
        return None
    return (
        Offer.objects.select_related("freed_slot__surgeon")
        .filter(pk=offer_id, visit_id=link.visit_id)
        .first()
    )


def offer_on_page(
    link: BookingLink, value: str | None, *, now: dt.datetime
) -> OfferOnPage | None:
    """The offer `?offer=` names, when it is one of the link's visit."""
    offer = _offer(link, offer_id_of(value))
    if offer is None:
        return None
    freed = offer.freed_slot
    return OfferOnPage(
        pk=offer.pk,
        start=local(freed.start),
        surgeon=str(freed.surgeon),
        state=offer.state(now),
        expires_at=local(offer.expires_at),
    )


def _refusal(offer: Offer, now: dt.datetime) -> Conflict | None:
    state = offer.state(now)
    if state == OfferStatus.PENDING:
        return None
    words = {
        OfferStatus.EXPIRED: ("offer_expired", "The offer has ended."),
        OfferStatus.CLAIMED: ("offer_claimed", "The offer was claimed already."),
        OfferStatus.TAKEN: ("offer_taken", "Someone else booked the time first."),
    }
    code, detail = words.get(
        OfferStatus(state), ("offer_closed", "The offer is closed.")
    )
    return Conflict(detail, code=code, params={"start": offer.freed_slot.start})


def claim(
    *,
    link: BookingLink,
    offer_id: int | None,
    start: dt.datetime,
    now: dt.datetime,
    sequence: int | None,
) -> Visit:
    """Book the offered slot for the link's visit: the first claim wins."""
    offer = _offer(link, offer_id)
    if offer is None:
        raise InvalidInput("No such offer for this visit.", code="offer_unknown")
    if start != offer.freed_slot.start:
        raise InvalidInput(
            "That is not the offered time.",
            code="offer_other_slot",
            params={"start": offer.freed_slot.start},
        )
    refusal = _refusal(offer, now)
    if refusal is not None:
        if refusal.code == "offer_expired":
            _close(offer, OfferStatus.EXPIRED, now=now)
        raise refusal
    try:
        return book_through_link(link=link, start=start, now=now, sequence=sequence)
    except Conflict as error:
        if error.code not in LOST:
            raise
        taken = FreedSlot.objects.filter(
            pk=offer.freed_slot_id, refilled_at__isnull=False
        ).exists()
        _close(offer, OfferStatus.TAKEN if taken else OfferStatus.WITHDRAWN, now=now)
        if not taken:
            raise
        raise Conflict(
            "Someone else booked the time first.",
            code="offer_taken",
            params={"start": offer.freed_slot.start},
        ) from error


@transaction.atomic
def _close(offer: Offer, status: OfferStatus, *, now: dt.datetime) -> None:
    close(Offer.objects.filter(pk=offer.pk), status, now=now)
