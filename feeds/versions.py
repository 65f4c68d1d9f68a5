"""Feed versions: what a feed's cache key, ETag and Last-Modified derive from.

Every change of a visit bumps, in its own transaction, the version of each
feed that lists (or listed) the visit: the surgeon feeds of the visit's
surgeon, of the procedure's surgeon and of the surgeon whose feed last
listed it, the patient's feed and the clinic feed. A reader that sees the
new version therefore sees the change too.

`changed_at` rises by at least a second on every bump, so `Last-Modified`
(whole seconds) differs for two changes within the same second and an
`If-Modified-Since` client never misses the second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from clinic.models import Procedure
from core.db import chunks, fast_path
from feeds import link_cache
from feeds.models import CalendarEntry, CalendarLink, FeedVersion, LinkScope
from followup.models import Visit

CLINIC_KEY = "clinic"


def feed_key(scope: str, owner_id: int | None = None) -> str:
    if scope == LinkScope.CLINIC:
        return CLINIC_KEY
    if owner_id is None:
        raise ValueError(f"a {scope} feed needs its owner's id")
    return f"{scope}:{owner_id}"


@dataclass(frozen=True)
class Stamp:
    """A feed's version as the web sees it."""

    version: int
    changed_at: dt.datetime

    @property
    def token(self) -> str:
        # The time makes keys unique even when a database is restored or a
        # test rolls back and version numbers repeat.
        return f"{self.version}.{int(self.changed_at.timestamp() * 1_000_000):x}"


def ensure(key: str, *, lock: bool = False) -> FeedVersion:
    """The feed's version row, made on first use (a feed nothing changed yet).

    `lock` holds the row until the transaction ends, so no bump slips in
    between reading the stamp and copying it onto a link.
    """
    FeedVersion.objects.get_or_create(
        key=key, defaults={"changed_at": timezone.now().replace(microsecond=0)}
    )
    rows = FeedVersion.objects.filter(key=key)
    return (rows.select_for_update() if lock else rows).get()


def current(key: str) -> Stamp:
    """The feed's stamp; one query."""
    row = FeedVersion.objects.filter(key=key).values_list("version", "changed_at")[:1]
    if row:
        version, changed_at = row[0]
        return Stamp(version, changed_at)
    fresh = ensure(key)
    return Stamp(fresh.version, fresh.changed_at)


def keys_for_visits(visit_ids: Collection[int]) -> set[str]:
    """Every feed that lists or listed these visits; two queries a chunk.

    Also records, on existing entries, the surgeon whose feed now lists each
    visit, so a later move to another surgeon refreshes this one's feed.
    """
    keys: set[str] = set()
    moved: list[int] = []
    for chunk in chunks(sorted(visit_ids)):
        rows = Visit.objects.filter(pk__in=chunk).values_list(
            "pk", "surgeon_id", "procedure__surgeon_id", "procedure__patient_id"
        )
        now_listed: dict[int, int | None] = {}
        for pk, surgeon_id, operating_surgeon_id, patient_id in rows:
            now_listed[pk] = surgeon_id
            keys.add(feed_key(LinkScope.PATIENT, patient_id))
            keys.add(feed_key(LinkScope.SURGEON, operating_surgeon_id))
            if surgeon_id is not None:
                keys.add(feed_key(LinkScope.SURGEON, surgeon_id))
        listed_before = CalendarEntry.objects.filter(visit_id__in=chunk).values_list(
            "visit_id", "feed_surgeon_id"
        )
        for visit_id, before in listed_before:
            if before is not None:
                keys.add(feed_key(LinkScope.SURGEON, before))
            if now_listed.get(visit_id, before) != before:
                moved.append(visit_id)
    for chunk in chunks(moved):
        CalendarEntry.objects.filter(visit_id__in=chunk).update(
            feed_surgeon_id=Subquery(
                Visit.objects.filter(pk=OuterRef("visit_id")).values("surgeon_id")[:1]
            )
        )
    if keys:
        keys.add(CLINIC_KEY)
    return keys


def bump(keys: Collection[str], *, now: dt.datetime | None = None) -> None:
    """Raise these feeds' versions; call inside the changing transaction."""
    if not keys:
        return
    now = now or timezone.now()
    ordered = sorted(keys)
    with transaction.atomic():
        for chunk in chunks(ordered):
            FeedVersion.objects.bulk_create(
                # A second early, so the first bump below lands exactly on `now`.
                [
                    FeedVersion(
                        key=key, version=0, changed_at=now - dt.timedelta(seconds=1)
                    )
                    for key in chunk
                ],
                ignore_conflicts=True,
            )
            # Lock in key order so two changes of shared feeds cannot deadlock.
            list(
                FeedVersion.objects.filter(key__in=chunk)
                .order_by("key")
                .select_for_update()
                .values_list("pk", flat=True)
            )
            FeedVersion.objects.filter(key__in=chunk).update(
                version=F("version") + 1,
                changed_at=Greatest(
                    Value(now), F("changed_at") + dt.timedelta(seconds=1)
                ),
            )
            # The links' copies of the stamp, which polls read.
            bumped = FeedVersion.objects.filter(pk=OuterRef("feed_id"))
            CalendarLink.objects.filter(feed__key__in=chunk, revoked_at=None).update(
                feed_version=Subquery(bumped.values("version")[:1]),
                feed_changed_at=Subquery(bumped.values("changed_at")[:1]),
            )
    # Polls must see the new stamp: links held in memory go at commit.
    link_cache.links.clear_on_commit()


def bump_patient_feeds() -> None:
    """Raise the version of every patient's feed that has one: the clinic's
    recovery milestones, which each of them shows, changed. A feed with no
    version yet gets one when first read, after this change."""
    prefix = feed_key(LinkScope.PATIENT, 0).removesuffix("0")
    bump(
        list(
            FeedVersion.objects.filter(key__startswith=prefix).values_list(
                "key", flat=True
            )
        )
    )


def _bump_for_visits_portable(
    visit_ids: Collection[int], *, now: dt.datetime | None = None
) -> None:
    bump(keys_for_visits(visit_ids), now=now)


@fast_path(portable=_bump_for_visits_portable)
def bump_for_visits(
    visit_ids: Collection[int], *, now: dt.datetime | None = None
) -> None:
    """`bump(keys_for_visits(visit_ids))`; call inside the changing transaction.

    On PostgreSQL the keys are found, bumped and copied onto the links by one
    statement over the ids, and moved entries re-pointed by a second: for the
    35,000 visits of a 10,000-row import that is ~9,000 keys never built in
    Python.
    """
    ids = sorted(set(visit_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _bump_sql(),
            {
                "ids": ids,
                # Spelled as `feed_key` spells them: "<scope>:<owner id>".
                "patient": f"{LinkScope.PATIENT.value}:",
                "surgeon": f"{LinkScope.SURGEON.value}:",
                "clinic": CLINIC_KEY,
                "now": now or timezone.now(),
            },
        )
        _repoint_moved_entries(cursor, ids)
    link_cache.links.clear_on_commit()


def _bump_sql() -> str:
    """The one statement of `bump_for_visits`: the same keys as `feed_key`,
    and the same stamps as `bump` (a new feed gets version 1 at `now`).

    Rows are taken in key order ("C" collation is Python's string order) so
    this and `bump` lock shared feeds alike and cannot deadlock.
    """
    quote = connection.ops.quote_name
    visit = quote(Visit._meta.db_table)
    procedure = quote(Procedure._meta.db_table)
    entry = quote(CalendarEntry._meta.db_table)
    feed = quote(FeedVersion._meta.db_table)
    link = quote(CalendarLink._meta.db_table)
    # Identifiers come from the models; values are parameters.
    return f"""
        WITH changed AS (
            SELECT v.surgeon_id, p.surgeon_id AS operating_surgeon_id, p.patient_id
            FROM {visit} v JOIN {procedure} p ON p.id = v.procedure_id
            WHERE v.id = ANY(%(ids)s::bigint[])
        ),
        listed AS (
            SELECT %(patient)s::text || patient_id AS key FROM changed
            UNION SELECT %(surgeon)s::text || operating_surgeon_id FROM changed
            UNION SELECT %(surgeon)s::text || surgeon_id FROM changed
                WHERE surgeon_id IS NOT NULL
            UNION SELECT %(surgeon)s::text || feed_surgeon_id FROM {entry}
                WHERE visit_id = ANY(%(ids)s::bigint[])
                AND feed_surgeon_id IS NOT NULL
        ),
        keys AS (
            SELECT key FROM listed
            UNION SELECT %(clinic)s::text WHERE EXISTS (SELECT 1 FROM listed)
        ),
        bumped AS (
            INSERT INTO {feed} AS f (key, version, changed_at)
            SELECT key, 1, %(now)s FROM keys ORDER BY key COLLATE "C"
            ON CONFLICT (key) DO UPDATE SET
                version = f.version + 1,
                changed_at = GREATEST(
                    EXCLUDED.changed_at, f.changed_at + interval '1 second'
                )
            RETURNING f.id, f.version, f.changed_at
        )
        UPDATE {link} AS l
        SET feed_version = bumped.version, feed_changed_at = bumped.changed_at
        FROM bumped
        WHERE l.feed_id = bumped.id AND l.revoked_at IS NULL
    """  # noqa: S608


def _repoint_moved_entries(cursor: CursorWrapper, ids: list[int]) -> None:
    """Entries of visits moved to another surgeon now list under them."""
    quote = connection.ops.quote_name
    entry = quote(CalendarEntry._meta.db_table)
    visit = quote(Visit._meta.db_table)
    cursor.execute(
        f"""
        UPDATE {entry} AS e SET feed_surgeon_id = v.surgeon_id
        FROM {visit} v
        WHERE v.id = e.visit_id AND e.visit_id = ANY(%(ids)s::bigint[])
        AND e.feed_surgeon_id IS DISTINCT FROM v.surgeon_id
        """,  # noqa: S608
        {"ids": ids},
    )
