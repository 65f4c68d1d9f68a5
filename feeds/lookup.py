"""The feed poll's hot path: from a token to its live link, in one query.

Every poll of every subscribed calendar runs this, so it is measured
(bench/feed.py: a poll within 2x of serving from memory). A link this
process served before is read from its memory (`feeds.link_cache`), kept
honest by PostgreSQL's notifications; otherwise the link row,
which carries a copy of its feed's stamp, is read by a statement prepared
once per connection (`core.prepared.fetch_one_prepared`), and a use is recorded
at most once per few minutes. The same query through the ORM is its
portable twin, run where statements are logged or there is no PostgreSQL.

Tokens are `core.tokens`' (shared with booking links): only their SHA-256
is stored, and a row the index found is still compared in constant time.

A link lives only while its owner may still hold it, checked in the same
query: a surgeon link while the surgeon's login is
active and in the `surgeon` group; a patient or clinic link while the staff
user who issued its current URL (`rotated_by` once rotated, else
`created_by`) is active and still holds a role that may create it (front
desk or clinic admin for a patient link, clinic admin for the clinic's), or
when the link says a management command issued it (`issued_by_command`).
An issuer whose account was deleted leaves an empty column, and so a dead
link. A dead link gets the same 404 as an unknown token; a
clerk who is still at the desk brings a patient's link back to life by
rotating it (a new URL, issued under their name), and the link lists say
which links are not serving (`links.visible_to` annotates `serving`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    When,
)

from clinic.models import Surgeon
from core import prepared
from core.tokens import same_digest
from feeds import link_cache, versions
from feeds.models import CalendarLink, LinkScope

# last_used_at is written at most this often per link: a poll is a read.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)
# Every poll runs this one statement, prepared once per connection: building
# the ORM query each poll cost as much as running it, and so did psycopg's
# cursor machinery (core.prepared.fetch_one_prepared).
_FIND_STATEMENT = b"feeds_find_active_link"


@dataclass(frozen=True)
class ActiveLink:
    """What the feed view needs of a link and its feed, read in one query."""

    id: int
    scope: str
    owner_id: int | None
    last_used_at: dt.datetime | None
    feed_key: str
    stamp: versions.Stamp
    digest: str


# Stands for the token's hash in the compiled statement's parameters.
_DIGEST_PLACEHOLDER = "\x00digest"


def _issuer_holds(*groups: str) -> Q:
    def holds(issuer: str) -> Exists:
        return Exists(
            User.objects.filter(pk=OuterRef(issuer), is_active=True).filter(
                Q(is_superuser=True) | Q(groups__name__in=groups)
            )
        )

    # The issuer of the current URL: who rotated it last, else who created
    # it; never the creator of a rotated link, as its rotator may be gone.
    return (
        Q(issued_by_command=True)
        | (Q(rotated_at=None) & holds("created_by_id"))
        | (Q(rotated_at__isnull=False) & holds("rotated_by_id"))
    )


def owner_may_hold() -> Case:
    """True for a link whose owner is still active and holds the role that
    made it. A CASE of correlated EXISTS: each probes one user's row and
    groups by index (an OR of joins made PostgreSQL hash whole tables)."""
    surgeon_holds = Exists(
        Surgeon.objects.filter(
            pk=OuterRef("surgeon_id"),
            user__is_active=True,
            user__groups__name="surgeon",
        )
    )
    return Case(
        When(scope=LinkScope.SURGEON, then=surgeon_holds),
        When(scope=LinkScope.PATIENT, then=_issuer_holds("front_desk", "clinic_admin")),
        When(scope=LinkScope.CLINIC, then=_issuer_holds("clinic_admin")),
        output_field=BooleanField(),  # NULL for any other scope: not live
    )


def _find_query() -> QuerySet[CalendarLink, tuple[Any, ...]]:
    return (
        CalendarLink.objects.filter(token_hash=_DIGEST_PLACEHOLDER, revoked_at=None)
        .filter(owner_may_hold())
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
def _find_sql(alias: str) -> tuple[str, tuple[str, ...], int]:
    """The statement for database `alias`, its parameters as text, and where
    the hash goes.

    Compiled once: building the ORM query each poll cost as much as running
    it, and a poll must stay within 2x of serving from memory.
    """
    sql, params = _find_query().query.get_compiler(using=alias).as_sql()
    texts = tuple(str(param) for param in params)
    return sql, texts, texts.index(_DIGEST_PLACEHOLDER)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _fetch_link_row(digest: str) -> tuple[Any, ...] | None:
    # The connection itself, not the `connection` proxy: each attribute read
    # through the proxy is a thread-local lookup, a dozen of them a poll.
    conn = connections[DEFAULT_DB_ALIAS]
    sql, params, at = _find_sql(conn.alias)
    values = (*params[:at], digest, *params[at + 1 :])
    return prepared.fetch_one_prepared(conn, _FIND_STATEMENT, sql, values)


def find_active_by_digest(digest: str) -> ActiveLink | None:
    """The live link whose token hashes to `digest`, with its feed's version.

    One single-row query: the link carries a copy of its feed's stamp, and
    none at all while this process holds the link (`feeds.link_cache`). The
    caller hashes a well-formed token (`looks_like_token`, `hash_token`).
    """
    if not link_cache.links.usable():
        return _read_link(digest)
    held: ActiveLink | None
    held, generation = link_cache.links.get(digest)
    if held is not None:
        return held
    link = _read_link(digest)
    if link is not None:
        link_cache.links.keep(link, digest, generation)
    return link


def _read_link(digest: str) -> ActiveLink | None:
    row = _fetch_link_row(digest)
    if row is None:
        return None
    pk, scope, surgeon_id, patient_id, stored, last_used, version, changed = row
    # The index found the row; compare in constant time all the same.
    if not same_digest(stored, digest):
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
    return ActiveLink(pk, scope, owner_id, _aware(last_used), key, stamp, digest)


def touch(link: ActiveLink, *, now: dt.datetime) -> None:
    """Record a use, at most once per few minutes, as a conditional update.

    A poll never waits for it: a link row locked by a long transaction (a
    CSV import bumping its feed) is skipped, and the next poll records it.
    """
    last = link.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    # Held in memory, the link now says "used at `now`", recorded below or
    # by a poll of another process: this process tries again in a while.
    link_cache.links.replace(link.digest, link, replace(link, last_used_at=now))
    with transaction.atomic():
        # Zero rows: another request recorded this use first, or it is locked.
        free = (
            CalendarLink.objects.select_for_update(skip_locked=True)
            .filter(pk=link.id, last_used_at=last)
            .values_list("pk", flat=True)
        )
        if list(free):
            CalendarLink.objects.filter(pk=link.id).update(last_used_at=now)
