"""Calendar links: who may hold one, and creating, rotating, revoking them.

A link's token is `core.tokens.new_token()` (256 bits). Only its SHA-256
is stored: the token itself is shown once, in the reply that creates or
rotates the link, and can never be read back. Rotating gives the same link a
new token (the old one stops working at once); revoking ends the link.
Finding a link by its token, on every poll, is `feeds.lookup`.

Who may do what (SPEC section 1):
- a clinic admin: any link, the clinic-wide one included;
- the front desk: patient links (they hand them out at the desk);
- a surgeon: their own surgeon link.
Each sees and manages the links they could create, plus the ones they made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.audit import audited_as
from clinic.models import Patient, Surgeon
from core.quoting import quoted
from core.tokens import new_token
from feeds import lookup, versions
from feeds.models import CalendarLink, LinkScope
from followup.access import Forbidden, Role, staff_of
from followup.exceptions import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


@dataclass(frozen=True)
class IssuedLink:
    """A link with its token: the only moment the token is known."""

    link: CalendarLink
    token: str

    @property
    def path(self) -> str:
        return feed_path(self.token)


# --- who may see and manage links ------------------------------------------


def visible_to(
    user: AnyUser | None, *, revoked: bool = False
) -> QuerySet[CalendarLink]:
    """The links this user may see, rotate and revoke: every unrevoked one,
    with `serving` telling whether its feed answers (lookup.owner_may_hold).

    `revoked`: the revoked ones they could have managed too (a page's second
    click on Revoke finds its link there, to say it is revoked already).
    """
    staff = staff_of(user)
    links = CalendarLink.objects.annotate(serving=lookup.owner_may_hold())
    if not revoked:
        links = links.filter(revoked_at=None)
    if Role.ADMIN in staff.roles:
        return links
    # Rights follow the role held now, never who created the link: a clerk
    # who leaves the front desk can no longer rotate the links they handed out.
    allowed = Q(pk__in=[])
    if Role.FRONT_DESK in staff.roles:
        allowed |= Q(scope=LinkScope.PATIENT)
    if Role.SURGEON in staff.roles and staff.surgeon_id is not None:
        allowed |= Q(scope=LinkScope.SURGEON, surgeon_id=staff.surgeon_id)
    return links.filter(allowed)


def is_serving(link_id: int) -> bool:
    """Whether this link's feed answers now (see `visible_to`)."""
    found = CalendarLink.objects.filter(pk=link_id, revoked_at=None).filter(
        lookup.owner_may_hold()
    )
    return found.exists()


def access_link(
    user: AnyUser | None, link_id: int, *, revoked: bool = False
) -> CalendarLink:
    """A live link the user may manage (with `revoked`, or one revoked since);
    404 for any other, so none is confirmed."""
    link = visible_to(user, revoked=revoked).filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"Calendar link {link_id} does not exist.")
    return link


def _parse_scope(scope: str) -> LinkScope:
    if scope not in LinkScope.values:
        known = ", ".join(LinkScope.values)
        raise InvalidInput(
            f"Unknown scope {quoted(scope)}; use one of: {known}.", code="unknown_scope"
        )
    return LinkScope(scope)


def check_may_create(
    user: AnyUser | None, *, scope: str, surgeon_id: int | None
) -> int | None:
    """Refuse (403) a link this user may not hand out.

    Returns the surgeon id to use: a surgeon asking for a surgeon link
    without naming one gets their own.
    """
    staff = staff_of(user)
    kind = _parse_scope(scope)
    if Role.ADMIN in staff.roles:
        return surgeon_id
    if kind == LinkScope.PATIENT and Role.FRONT_DESK in staff.roles:
        return surgeon_id
    if kind == LinkScope.SURGEON and staff.surgeon_id is not None:
        if surgeon_id in (None, staff.surgeon_id):
            return staff.surgeon_id
        raise Forbidden(
            "A surgeon may create a calendar link for their own calendar only.",
            code="permission_denied",
        )
    raise Forbidden(
        f"Your role cannot create a {kind.value} calendar link.",
        code="permission_denied",
    )


# --- services ----------------------------------------------------------------


def validate_owner(
    *, scope: str, surgeon_id: int | None, patient_id: int | None
) -> LinkScope:
    """Refuse (400) a link whose owner does not fit its scope or is unknown."""
    kind = _parse_scope(scope)
    if kind == LinkScope.SURGEON:
        if patient_id is not None or surgeon_id is None:
            raise InvalidInput(
                "A surgeon link names a surgeon and no patient.", code="invalid_owner"
            )
        if not Surgeon.objects.filter(pk=surgeon_id).exists():
            raise InvalidInput(
                f"Surgeon {surgeon_id} does not exist.", code="unknown_surgeon"
            )
    elif kind == LinkScope.PATIENT:
        if surgeon_id is not None or patient_id is None:
            raise InvalidInput(
                "A patient link names a patient and no surgeon.", code="invalid_owner"
            )
        if not Patient.objects.filter(pk=patient_id).exists():
            raise InvalidInput(
                f"Patient {patient_id} does not exist.", code="unknown_patient"
            )
    elif surgeon_id is not None or patient_id is not None:
        raise InvalidInput(
            "The clinic link names neither a surgeon nor a patient.",
            code="invalid_owner",
        )
    return kind


# A create refused because the calendar has its one live link (`only_link`).
LINK_EXISTS = "link_exists"


def check_room(
    *,
    scope: str,
    surgeon_id: int | None,
    patient_id: int | None,
    only_link: bool = False,
) -> None:
    """Refuse (409) a link past the owner's cap of live links; with
    `only_link`, any second live link (`link_exists`), as the pages allow.

    The owner is the calendar: one surgeon's, one patient's, the clinic's.
    Race-free inside `create_link`, which holds the feed's row lock.
    """
    # None matches a NULL owner: the clinic's link has neither.
    owner = (
        Q(scope=scope, revoked_at=None)
        & Q(surgeon_id=surgeon_id)
        & Q(patient_id=patient_id)
    )
    live = CalendarLink.objects.filter(owner).count()
    if only_link and live:
        raise Conflict(
            "This calendar already has a link. Rotate it for a new URL, or "
            "revoke it first.",
            code=LINK_EXISTS,
        )
    cap = settings.CALENDAR_LINKS_PER_OWNER
    if live >= cap:
        raise Conflict(
            f"This calendar already has {live} live links, the most allowed "
            f"({cap}). Revoke one you no longer need, or rotate it for a new URL.",
            code="too_many_links",
        )


@transaction.atomic
def create_link(
    *,
    scope: str,
    surgeon_id: int | None = None,
    patient_id: int | None = None,
    actor: User | None = None,
    by_command: bool = False,
    only_link: bool = False,
) -> IssuedLink:
    """A new subscription link; the reply carries its token, once.

    `only_link`: refused (409 `link_exists`) when the calendar has a live
    link already, checked under the lock (a page's double click).

    A patient or clinic link lives while its issuer may hold it
    (`feeds.lookup`): it names the `actor`, or says it was made by a
    command (`by_command=True`, a link no account's end can end).
    """
    kind = validate_owner(scope=scope, surgeon_id=surgeon_id, patient_id=patient_id)
    _require_issuer(kind, actor, by_command)
    token, token_hash = new_token()
    feed = versions.ensure(versions.feed_key(kind, surgeon_id or patient_id), lock=True)
    # Under the feed row's lock: two requests at once cannot both pass the cap.
    check_room(
        scope=kind, surgeon_id=surgeon_id, patient_id=patient_id, only_link=only_link
    )
    link = CalendarLink(
        scope=kind,
        surgeon_id=surgeon_id,
        patient_id=patient_id,
        token_hash=token_hash,
        created_by=actor,
        issued_by_command=by_command,
        feed=feed,
        feed_version=feed.version,
        feed_changed_at=feed.changed_at,
    )
    with audited_as(actor):
        link.save(force_insert=True)
    return IssuedLink(link=link, token=token)


# A revoke refused because the link was revoked already (`seen_live`).
LINK_REVOKED = "link_revoked"
# A rotate refused because the link was rotated since it was shown (`shown`).
LINK_ROTATED = "link_rotated"
# A rotate refused because the link was revoked since it was shown (`seen_live`).
LINK_REVOKED_SINCE = "link_revoked_since"


def fingerprint(link: CalendarLink) -> str:
    """The link's current URL as a page shows it, without the URL: a digest
    that changes with every rotation (`rotate_link`'s `shown`)."""
    return hashlib.sha256(link.token_hash.encode()).hexdigest()[:16]


def _locked_live_link(
    link_id: int, *, seen_live: bool = False, code: str = LINK_REVOKED
) -> CalendarLink:
    """The live link, locked; a revoked one is not found, or, to a caller
    that was shown it live (`seen_live`), refused as revoked already (`code`)."""
    link = CalendarLink.objects.select_for_update().filter(pk=link_id).first()
    if link is not None and link.revoked_at is not None and seen_live:
        raise Conflict(
            "This calendar link was revoked already; nothing was changed.",
            code=code,
            params={"revoked_at": link.revoked_at},
        )
    if link is None or link.revoked_at is not None:
        raise NotFound(f"Calendar link {link_id} does not exist.")
    return link


@transaction.atomic
def rotate_link(
    *,
    link_id: int,
    actor: AnyUser | None = None,
    now: dt.datetime | None = None,
    by_command: bool = False,
    shown: str | None = None,
    seen_live: bool = False,
) -> IssuedLink:
    """Give the link a new token; the old one stops working at once.

    The link keeps its last-use time: it is the same subscription. The new
    URL is the rotator's (or, said explicitly, a command's) to answer for.

    `shown`: the link's `fingerprint` as a page showed it. A link rotated
    since (another tab, a second click) is refused (409 `link_rotated`),
    checked under the lock: the URL that rotation handed out keeps working.

    `seen_live`: the caller showed the link live (a page). One revoked since
    (another tab) is refused (409 `link_revoked_since`, its `revoked_at` in
    the params) rather than not found, checked under the lock as well.
    """
    link = _locked_live_link(link_id, seen_live=seen_live, code=LINK_REVOKED_SINCE)
    if shown is not None and shown != fingerprint(link):
        raise Conflict(
            "This calendar link was rotated after it was shown; nothing was changed.",
            code=LINK_ROTATED,
            params={"rotated_at": link.rotated_at},
        )
    user = _user(actor)
    _require_issuer(link.scope, user, by_command)
    token, link.token_hash = new_token()
    link.rotated_at = now or timezone.now()
    link.rotated_by = user
    link.issued_by_command = by_command
    fields = ["token_hash", "rotated_at", "rotated_by", "issued_by_command"]
    with audited_as(user):
        link.save(update_fields=fields)
    return IssuedLink(link=link, token=token)


def _require_issuer(scope: str, user: User | None, by_command: bool) -> None:
    # A surgeon link lives by the surgeon's login, whoever issued it.
    if scope != LinkScope.SURGEON and user is None and not by_command:
        raise ValueError(
            "A patient or clinic link is issued by a user or by a command "
            "(by_command=True)."
        )


@transaction.atomic
def revoke_link(
    *,
    link_id: int,
    now: dt.datetime,
    actor: AnyUser | None = None,
    seen_live: bool = False,
) -> CalendarLink:
    """End the link; its row stays as the record of who had access.

    `seen_live`: the caller showed the link live (a page). One revoked since
    is refused (409 `link_revoked`, its `revoked_at` in the params) rather
    than not found, checked under the lock (a page's double click).
    """
    link = _locked_live_link(link_id, seen_live=seen_live)
    link.revoked_at = now
    user = _user(actor)
    link.revoked_by = user
    with audited_as(user):
        link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def _user(actor: AnyUser | None) -> User | None:
    if actor is None or not actor.is_authenticated:
        return None
    return actor
