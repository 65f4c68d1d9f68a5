"""Making a visit's booking link, finding it by its token, and the patient's
moves through it.

The token is `core.tokens`' (256 bits; only its SHA-256 stored), shown once
in the answer that makes the link. A new link ends the visit's older ones in
the same transaction, under the visit's row lock, so a visit has one open
link at a time (a partial unique constraint says so too).

The patient's moves are the front desk's services (`followup.services`),
with the same controls (window, sessions, exclusion constraints, transition
times) and the author `PATIENT_LINK` ("patient (link)"), who holds no
override: a slot must be one the desk would be offered
(`services.propose_slots`, late ones for an overdue visit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from booking_links import lookup
from booking_links.models import (
    DAYS_AFTER_WINDOW,
    ENDED_STATUSES,
    BookingLink,
    BookingLinkUse,
    LinkUse,
)
from clinic.clock import local
from core.tokens import hash_token, looks_like_token, new_token, same_digest
from followup import services
from followup.exceptions import Conflict, NotFound
from followup.models import Visit, VisitStatus
from followup.models.authorship import PATIENT_LINK
from followup.services.parsing import require_aware

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What an unbooking through the link records as its reason (SPEC section 8).
PATIENT_REQUEST = "patient_request"


def link_path(token: str) -> str:
    return f"/p/{token}/"


@dataclass(frozen=True)
class IssuedBookingLink:
    """A link with its token: the only moment the token is known."""

    link: BookingLink
    token: str

    @property
    def path(self) -> str:
        return link_path(self.token)


def _ended_reason(visit: Visit, today: dt.date) -> Conflict | None:
    if visit.status in ENDED_STATUSES:
        status = VisitStatus(visit.status).label.lower()
        return Conflict(
            f"Visit {visit.pk} is {status}; it has nothing left to book.",
            code="invalid_transition",
            params={"status": status, "verb": "given a booking link"},
        )
    if visit.window_end < today - dt.timedelta(days=DAYS_AFTER_WINDOW):
        return Conflict(
            f"The visit's window closed more than {DAYS_AFTER_WINDOW} days ago; "
            "book it at the desk.",
            code="window_long_past",
        )
    return None


@transaction.atomic
def issue_link(
    *, visit_id: int, actor: User | None, now: dt.datetime
) -> IssuedBookingLink:
    """A new booking link for the visit; its older links end now."""
    now = require_aware(now, field_name="now")
    visit = Visit.objects.select_for_update(of=("self",)).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound(f"Visit {visit_id} does not exist.")
    refusal = _ended_reason(visit, local(now).date())
    if refusal is not None:
        raise refusal
    BookingLink.objects.filter(visit=visit, ended_at=None).update(ended_at=now)
    token, digest = new_token()
    link = BookingLink.objects.create(
        visit=visit, token_hash=digest, created_at=now, created_by=actor
    )
    return IssuedBookingLink(link=link, token=token)


def find_live(token: str, *, now: dt.datetime) -> BookingLink | None:
    """The link `token` opens at `now`, with its visit; None for an unknown,
    malformed or ended one alike."""
    if not looks_like_token(token):
        return None
    digest = hash_token(token)
    link = lookup.find_by_digest(local(now).date(), digest)
    if link is None or not same_digest(link.token_hash, digest):
        return None
    return link


def record_use(link: BookingLink, what: LinkUse, *, now: dt.datetime) -> None:
    """The audit trail of the link: one row per use."""
    BookingLinkUse.objects.create(link=link, at=now, what=what)


def _offered(visit: Visit, start: dt.datetime, now: dt.datetime) -> int:
    """The surgeon of the offered slot starting at `start`; a Conflict when
    `start` is not one (taken meanwhile, past, outside the window or off
    the sessions' grid)."""
    search = services.propose_slots(visit=visit, now=now, after=start, limit=1)
    if search.slots and search.slots[0].start == start:
        return search.slots[0].surgeon_id
    raise Conflict(
        f"{start.isoformat()} is not one of the visit's free slots.",
        code="slot_not_offered",
        params={"start": start},
    )


@transaction.atomic
def book_through_link(
    *, link: BookingLink, start: dt.datetime, now: dt.datetime, sequence: int | None
) -> Visit:
    """Book the link's visit at `start`, or move it there when booked."""
    start = require_aware(start, field_name="start")
    visit = link.visit
    surgeon_id = _offered(visit, start, now)
    moving = visit.status == VisitStatus.BOOKED
    move = services.reschedule_visit if moving else services.book_visit
    booked = move(
        visit_id=visit.pk,
        start=start,
        surgeon_id=surgeon_id,
        actor=PATIENT_LINK,
        now=now,
        sequence=sequence,
    )
    record_use(link, LinkUse.MOVED if moving else LinkUse.BOOKED, now=now)
    return booked


@transaction.atomic
def give_up_through_link(
    *, link: BookingLink, now: dt.datetime, sequence: int | None
) -> Visit:
    """ "I can't come": the visit's slot is given back, the visit is to book."""
    visit = services.unbook_visit(
        visit_id=link.visit_id,
        actor=PATIENT_LINK,
        now=now,
        reason=PATIENT_REQUEST,
        sequence=sequence,
    )
    record_use(link, LinkUse.GAVE_UP, now=now)
    return visit
