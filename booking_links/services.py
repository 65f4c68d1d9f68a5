"""Making a visit's booking link, finding it by its token, and the patient's
moves through it.

The token is `core.tokens`' derived kind (256 bits, the HMAC of a stored
random nonce under SECRET_KEY; only its SHA-256 stored), shown in the answer
that makes the link. A new link ends the visit's older ones in the same
transaction, under the visit's row lock, so a visit has one open link at a
time (a partial unique constraint says so too). Because the server can
derive the token again, `link_url_for` gives a message, at send time, the
visit's live link (making one when there is none), and no message row ever
holds the token. Absolute URLs start with `SITE_URL`.

The patient's moves are the front desk's services (`followup.services`),
with the same controls (window, sessions, exclusion constraints, transition
times) and the author `PATIENT_LINK` ("patient (link)"), who holds no
override: a slot must be one the desk would be offered
(`services.propose_slots`, late ones for an overdue visit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from booking_links import lookup
from booking_links.models import (
    DAYS_AFTER_WINDOW,
    ENDED_STATUSES,
    BookingLink,
    LinkUse,
    last_linkable_day,
)
from clinic.clock import local
from core.tokens import (
    derive_token,
    hash_token,
    new_derived_token,
    same_digest,
)
from followup import services
from followup.exceptions import Conflict, DomainError, NotFound
from followup.models import Visit, VisitStatus
from followup.models.authorship import PATIENT_LINK
from followup.services.parsing import require_aware

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What an unbooking through the link records as its reason (SPEC section 8).
PATIENT_REQUEST = "patient_request"
# `core.tokens.derive_token`'s key salt: a booking link's token is its own
# kind of HMAC, never another token's.
TOKEN_SALT = "booking_links.token"  # noqa: S105 - a salt, not a secret


def link_path(token: str) -> str:
    return f"/p/{token}/"


def site_url() -> str:
    """`SITE_URL` without its trailing slash, read now; ImproperlyConfigured
    when it is not set (production must say where it is served)."""
    base = str(getattr(settings, "SITE_URL", "") or "").strip().rstrip("/")
    if not base:
        raise ImproperlyConfigured(
            "SITE_URL is not set: a booking link in a message needs the "
            "address patients open the site at, e.g. https://followup.clinic.example"
        )
    return base


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
    if today > last_linkable_day(visit):
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
    nonce, token, digest = new_derived_token(key_salt=TOKEN_SALT)
    link = BookingLink.objects.create(
        visit=visit, token_hash=digest, nonce=nonce, created_at=now, created_by=actor
    )
    return IssuedBookingLink(link=link, token=token)


def end_patients_links(patient_id: int, now: dt.datetime) -> None:
    """End the open links of every visit of the patient's: their number
    reached someone else, who may hold texts carrying them. A message sent
    later (an email, or a text once the number is corrected) carries a new
    link (`live_token`)."""
    BookingLink.objects.filter(visit__patient_id=patient_id, ended_at=None).update(
        ended_at=now
    )


def derived_token(link: BookingLink) -> str | None:
    """`link`'s token, derived again; None when it cannot be: a link made
    before nonces, or under another SECRET_KEY (the hash no longer matches)."""
    if not link.nonce:
        return None
    token = derive_token(link.nonce, key_salt=TOKEN_SALT)
    return token if same_digest(link.token_hash, hash_token(token)) else None


def live_token(*, visit_id: int, now: dt.datetime) -> str:
    """The token of the visit's live link, derived again; a new link (the
    older ones ended) when none is live or the live one is not derivable.
    Under the visit's row lock, so two messages of one visit sent at once
    carry the same link. A Conflict when the visit has nothing to book."""
    found = _live_token(visit_id, now)
    if isinstance(found, DomainError):
        raise found
    return found


# No savepoint of its own: a refusal is returned, not raised, so it leaves
# the caller's transaction usable.
@transaction.atomic(savepoint=False)
def _live_token(visit_id: int, now: dt.datetime) -> str | DomainError:
    visit = (
        Visit.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        return NotFound(f"Visit {visit_id} does not exist.")
    return live_tokens([visit], now=now)[visit.pk]


def live_tokens(
    visits: Collection[Visit], *, now: dt.datetime
) -> dict[int, str | DomainError]:
    """`live_token` for each of these visits, which the caller has read and
    locked in its transaction (the sender's claim): by visit id, the token,
    or why the visit has nothing to book. One statement to find the live
    links, and two more only when some must be made, whatever the number."""
    today = local(now).date()
    found: dict[int, str | DomainError] = {}
    linkable: dict[int, Visit] = {}
    for visit in visits:
        refusal = _ended_reason(visit, today)
        if refusal is not None:
            found[visit.pk] = refusal
        else:
            linkable[visit.pk] = visit
    live = (
        BookingLink.objects.live(today)
        .filter(visit_id__in=linkable)
        .order_by("visit_id", "-created_at", "-id")
    )
    for link in live:
        if link.visit_id not in found:
            token = derived_token(link)
            if token is not None:
                found[link.visit_id] = token
    # An open link that is not live belongs to a visit with nothing to book,
    # refused above; one live but not derivable ends here, as a newer one
    # is made.
    missing = [pk for pk in linkable if pk not in found]
    if missing:
        BookingLink.objects.filter(visit_id__in=missing, ended_at=None).update(
            ended_at=now
        )
        made = [(pk, new_derived_token(key_salt=TOKEN_SALT)) for pk in missing]
        BookingLink.objects.bulk_create(
            BookingLink(visit_id=pk, token_hash=digest, nonce=nonce, created_at=now)
            for pk, (nonce, _, digest) in made
        )
        found.update((pk, token) for pk, (_, token, _) in made)
    return found


def link_url_for(visit: Visit, *, now: dt.datetime) -> str:
    """The absolute URL of `visit`'s live booking link at `now` (made when
    there is none): what a message carries, never stored."""
    base = site_url()  # before any write: a missing SITE_URL makes no link
    return base + link_path(live_token(visit_id=visit.pk, now=now))


def link_urls_for(
    visits: Collection[Visit], *, now: dt.datetime
) -> dict[int, str | DomainError]:
    """`link_url_for` for visits the caller has read and locked (`live_tokens`):
    by visit id, the URL, or why the visit has nothing to book."""
    base = site_url()
    return {
        pk: token if isinstance(token, DomainError) else base + link_path(token)
        for pk, token in live_tokens(visits, now=now).items()
    }


def find_live(
    digest: str, *, now: dt.datetime, use: LinkUse | None = None
) -> BookingLink | None:
    """The link a well-formed token whose hash is `digest` opens at `now`
    (`core.tokens.looks_like_token`, `hash_token`: the caller's, which also
    throttles by it), with its visit; None for an unknown or ended one alike.
    With `use`, that use of the link found is recorded (`record_use`)."""
    now = require_aware(now, field_name="now")
    recording = None if use is None else (use, now)
    link = lookup.find_by_digest(local(now).date(), digest, recording)
    if link is None or not same_digest(link.token_hash, digest):
        return None
    return link


def record_use(link: BookingLink, what: LinkUse, *, now: dt.datetime) -> None:
    """The audit trail of the link: one row per use."""
    lookup.record_use(link.pk, what, require_aware(now, field_name="now"))


def _offered(visit: Visit, start: dt.datetime, now: dt.datetime) -> int:
    """The surgeon of the offered slot starting at `start`; a Conflict when
    `start` is not one (taken meanwhile, past, outside the window or off
    the sessions' grid, or, for an overdue visit, past the late range that
    runs from now: `services.slot_days`, as the desk's)."""
    last = services.slot_days(visit, now)[1]
    search = services.propose_slots(
        visit=visit, now=now, after=start, limit=1, until=last
    )
    if search.slots and search.slots[0].start == start:
        return search.slots[0].surgeon_id
    raise Conflict(
        f"{start.isoformat()} is not one of the visit's free slots.",
        code="slot_not_offered",
        params={"start": start},
    )


TIME_PASSED = "time_passed"


def has_begun(visit: Visit, now: dt.datetime) -> bool:
    """A booked time that has begun is the desk's to record (seen, missed):
    the patient can no longer give it up or move it (nor the page offer to)."""
    return (
        visit.status == VisitStatus.BOOKED
        and visit.start is not None
        and visit.start <= now
    )


def _check_not_begun(visit: Visit, now: dt.datetime) -> None:
    if has_begun(visit, now):
        raise Conflict(
            "The visit's booked time has begun; it can no longer be changed "
            "through the link.",
            code=TIME_PASSED,
            params={"start": visit.start},
        )


@transaction.atomic
def book_through_link(
    *, link: BookingLink, start: dt.datetime, now: dt.datetime, sequence: int | None
) -> Visit:
    """Book the link's visit at `start`, or move it there when booked."""
    start = require_aware(start, field_name="start")
    visit = link.visit
    _check_not_begun(visit, now)
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
    _check_not_begun(link.visit, now)
    visit = services.unbook_visit(
        visit_id=link.visit_id,
        actor=PATIENT_LINK,
        now=now,
        reason=PATIENT_REQUEST,
        sequence=sequence,
        # As the reply X: on the call list, for the desk to find a new time.
        patient_request=True,
    )
    record_use(link, LinkUse.GAVE_UP, now=now)
    return visit
