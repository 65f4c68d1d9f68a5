"""Calendar links: who may hold one, and creating, rotating, revoking them.

A link's token is `secrets.token_urlsafe(32)` (256 bits). Only its SHA-256
is stored: the token itself is shown once, in the reply that creates or
rotates the link, and can never be read back. Rotating gives the same link a
new token (the old one stops working at once); revoking ends the link.

Who may do what (SPEC section 1):
- a clinic admin: any link, the clinic-wide one included;
- the front desk: patient links (they hand them out at the desk);
- a surgeon: their own surgeon link.
Each sees and manages the links they could create, plus the ones they made.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q, QuerySet

from clinic.models import Patient, Surgeon
from config import db
from feeds import versions
from feeds.models import CalendarLink, LinkScope
from followup.access import Forbidden, Role, staff_of
from followup.exceptions import InvalidInput, NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# last_used_at is written at most this often per link: a poll is a read.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)
# Every poll runs this one statement, prepared once per connection: building
# the ORM query each poll cost as much as running it, and so did psycopg's
# cursor machinery (config.db.fetch_one_prepared).
_FIND_STATEMENT = b"feeds_find_active_link"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


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


@dataclass(frozen=True)
class ActiveLink:
    """What the feed view needs of a link and its feed, read in one query."""

    id: int
    scope: str
    owner_id: int | None
    last_used_at: dt.datetime | None
    feed_key: str
    stamp: versions.Stamp


def _find_query() -> QuerySet[CalendarLink, tuple[Any, ...]]:
    return (
        CalendarLink.objects.filter(token_hash="", revoked_at=None)
        .order_by()
        .values_list(
            "pk",
            "scope",
            "surgeon_id",
            "patient_id",
            "token_hash",
            "last_used_at",
            "feed_version",
            "feed_changed_at",
        )[:1]
    )


@functools.lru_cache(maxsize=4)
def _find_sql(vendor: str) -> str:
    # Compiled once: building the ORM query each poll cost as much as
    # running it, and a poll must stay within 2x of serving from memory.
    sql, params = _find_query().query.sql_with_params()
    assert params == ("",), params  # noqa: S101 - the only parameter is the hash
    return sql


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _fetch_link_row(digest: str) -> tuple[Any, ...] | None:
    # The connection itself, not the `connection` proxy: each attribute read
    # through the proxy is a thread-local lookup, a dozen of them a poll.
    conn = connections[DEFAULT_DB_ALIAS]
    sql = _find_sql(conn.vendor)
    return db.fetch_one_prepared(conn, _FIND_STATEMENT, sql, (digest,))


def find_active(token: str) -> ActiveLink | None:
    """The live link this token opens with its feed's version, or None.

    One single-row query: the link carries a copy of its feed's stamp.
    """
    if not looks_like_token(token):
        return None
    return find_active_by_digest(hash_token(token))


def find_active_by_digest(digest: str) -> ActiveLink | None:
    """`find_active` for a well-formed token whose hash the caller has."""
    row = _fetch_link_row(digest)
    if row is None:
        return None
    pk, scope, surgeon_id, patient_id, stored, last_used, version, changed = row
    # The index found the row; compare in constant time all the same.
    if not hmac.compare_digest(stored, digest):
        return None
    owner_id = surgeon_id or patient_id
    key = versions.feed_key(scope, owner_id)
    changed_at = _aware(changed)
    if changed_at is None:
        # A link made before links carried their feed's stamp: attach it once.
        with transaction.atomic():
            feed = versions.ensure(key, lock=True)
            CalendarLink.objects.filter(pk=pk).update(
                feed=feed, feed_version=feed.version, feed_changed_at=feed.changed_at
            )
        version, changed_at = feed.version, feed.changed_at
    stamp = versions.Stamp(int(version), changed_at)
    return ActiveLink(pk, scope, owner_id, _aware(last_used), key, stamp)


def touch(link: ActiveLink, *, now: dt.datetime) -> None:
    """Record a use, at most once per few minutes, as a conditional update.

    A poll never waits for it: a link row locked by a long transaction (a
    CSV import bumping its feed) is skipped, and the next poll records it.
    """
    last = link.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    with transaction.atomic():
        # Zero rows: another request recorded this use first, or it is locked.
        free = (
            CalendarLink.objects.select_for_update(skip_locked=True)
            .filter(pk=link.id, last_used_at=last)
            .values_list("pk", flat=True)
        )
        if list(free):
            CalendarLink.objects.filter(pk=link.id).update(last_used_at=now)


# --- who may see and manage links ------------------------------------------


def visible_to(user: AnyUser | None) -> QuerySet[CalendarLink]:
    """The live links this user may see, rotate and revoke."""
    staff = staff_of(user)
    links = CalendarLink.objects.filter(revoked_at=None)
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


def access_link(user: AnyUser | None, link_id: int) -> CalendarLink:
    """A live link the user may manage; 404 for any other, so none is confirmed."""
    link = visible_to(user).filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"Calendar link {link_id} does not exist.")
    return link


def _parse_scope(scope: str) -> LinkScope:
    if scope not in LinkScope.values:
        known = ", ".join(LinkScope.values)
        raise InvalidInput(
            f"Unknown scope {scope!r}; use one of: {known}.", code="unknown_scope"
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


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


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


@transaction.atomic
def create_link(
    *,
    scope: str,
    surgeon_id: int | None = None,
    patient_id: int | None = None,
    actor: User | None = None,
) -> IssuedLink:
    """A new subscription link; the reply carries its token, once."""
    kind = validate_owner(scope=scope, surgeon_id=surgeon_id, patient_id=patient_id)
    token, token_hash = _new_token()
    feed = versions.ensure(versions.feed_key(kind, surgeon_id or patient_id), lock=True)
    link = CalendarLink(
        scope=kind,
        surgeon_id=surgeon_id,
        patient_id=patient_id,
        token_hash=token_hash,
        created_by=actor,
        feed=feed,
        feed_version=feed.version,
        feed_changed_at=feed.changed_at,
    )
    link.save(force_insert=True)
    return IssuedLink(link=link, token=token)


def _locked_live_link(link_id: int) -> CalendarLink:
    link = (
        CalendarLink.objects.select_for_update()
        .filter(pk=link_id, revoked_at=None)
        .first()
    )
    if link is None:
        raise NotFound(f"Calendar link {link_id} does not exist.")
    return link


@transaction.atomic
def rotate_link(*, link_id: int) -> IssuedLink:
    """Give the link a new token; the old one stops working at once."""
    link = _locked_live_link(link_id)
    token, link.token_hash = _new_token()
    link.last_used_at = None
    link.save(update_fields=["token_hash", "last_used_at"])
    return IssuedLink(link=link, token=token)


@transaction.atomic
def revoke_link(*, link_id: int, now: dt.datetime) -> CalendarLink:
    """End the link; its row stays as the record of who had access."""
    link = _locked_live_link(link_id)
    link.revoked_at = now
    link.save(update_fields=["revoked_at"])
    return link
