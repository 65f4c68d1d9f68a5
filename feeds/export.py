"""Visit changes on their way to calendars: the feeds' change handler, and
the scheduling of CalDAV exports (`feeds.tasks.export_visits`).

`FeedsConfig.ready` registers `visits_changed` with `followup.changes`, so
it runs inside the transaction of every visit change (generation, re-plan,
booking, import). In that same transaction the feeds that list the visits
get a new version, so no feed is served from a cache older than a committed
change; then the visits' entries are marked pending and one export task per
chunk of ids is sent after the commit. The database, not the broker, is the
record of what is still to export: the beat tasks send again what stayed
pending (`reconcile`) and what an audit found missing (`audit_and_repair`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

from django.utils import timezone

from core import db, queue
from feeds import versions
from feeds.caldav import audit as caldav_audit
from feeds.caldav import push as caldav_push

logger = logging.getLogger(__name__)

# Ids per task: big enough that a 10,000-row CSV import makes 50 messages,
# small enough that a chunk finishes well inside the visibility timeout.
EXPORT_CHUNK_SIZE = 200
EXPORT_VISITS = "feeds.tasks.export_visits"


def visits_changed(visit_ids: Collection[int]) -> None:
    """Called inside the transaction that changed these visits.

    A bounded number of queries whatever the number of ids (the CSV import
    passes tens of thousands at once).
    """
    if not visit_ids:
        return
    versions.bump_for_visits(visit_ids)
    schedule_export(visit_ids)


def schedule_export(
    visit_ids: Collection[int], *, now: dt.datetime | None = None
) -> None:
    """Mark these visits' entries pending and export them after commit.

    Called inside the caller's transaction: if it rolls back, nothing is
    marked and nothing is sent. One upsert whatever the number of ids.
    """
    # Sorted: concurrent transactions lock entry rows in the same order.
    ids = sorted(set(visit_ids))
    if not ids:
        return
    caldav_push.mark_pending(ids, now=now or timezone.now())
    task = queue.task(EXPORT_VISITS)
    for chunk in db.chunks(ids, EXPORT_CHUNK_SIZE):
        # celery-types predates Celery 5.4's delay_on_commit.
        task.delay_on_commit(list(chunk))  # type: ignore[attr-defined]


def reconcile(*, now: dt.datetime) -> int:
    """Send again the exports that stayed pending too long or failed."""
    ids = caldav_push.stale_exports(now=now)
    _send(ids)
    if ids:
        logger.info("Re-enqueued the CalDAV export of %d visits", len(ids))
    return len(ids)


def audit_and_repair(*, now: dt.datetime) -> dict[str, int]:
    """Each calendar compared with the database, and what differs exported."""
    reports = caldav_audit.audit_calendars(now=now)
    return {
        "calendars": len(reports),
        "failed": sum(1 for report in reports if report.error),
        "resent": export_repairs(reports),
        "deleted": sum(len(report.deleted) for report in reports),
    }


def export_repairs(reports: Collection[caldav_audit.AuditReport]) -> int:
    """Enqueue the export of what the audits marked pending, in chunks."""
    ids = sorted({visit_id for report in reports for visit_id in report.resend})
    _send(ids)
    return len(ids)


def _send(ids: list[int]) -> None:
    task = queue.task(EXPORT_VISITS)
    for chunk in db.chunks(ids, EXPORT_CHUNK_SIZE):
        task.delay(list(chunk))
