"""The export pipeline's Celery side: schedule, export, reconcile, audit.
Thin: the state machine is `feeds.caldav.push`; here are the messages and
the retry policy.

- `schedule_export` runs inside the transaction of every visit change: it
  marks the visits' entries pending in one statement and enqueues one task
  per chunk of ids after commit. The database, not the broker, is the record
  of what is still to export.
- `export_visits` renders and pushes a chunk (`feeds.caldav.push`). It is
  acknowledged only when done (`acks_late`) and given back to the queue when
  its worker dies (`reject_on_worker_lost`); an unreachable CalDAV server
  retries the chunk with exponential backoff, and so does a lost database
  connection.
- `reconcile_exports` (beat, every few minutes) re-enqueues what stayed
  pending too long or failed: tasks lost with a Redis restart, retries that
  ran out while the server was down.
- `audit_calendars` (beat, hourly) compares each enabled calendar with the
  database (`feeds.caldav.audit`) and exports again what differs: an event
  a late PUT brought back after its DELETE, one deleted on the server.

Nothing is scheduled ahead with `countdown`/`eta`; only Celery's own retry
backoff waits, for seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from core import db
from feeds.caldav import audit as caldav_audit
from feeds.caldav import client as caldav_client
from feeds.caldav import push as caldav_push

logger = logging.getLogger(__name__)

# Ids per task: big enough that a 10,000-row CSV import makes 50 messages,
# small enough that a chunk finishes well inside the visibility timeout.
EXPORT_CHUNK_SIZE = 200


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
    for chunk in db.chunks(ids, EXPORT_CHUNK_SIZE):
        # celery-types predates Celery 5.4's delay_on_commit.
        export_visits.delay_on_commit(list(chunk))  # type: ignore[attr-defined]


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A lost database connection (a restart, a terminated backend) is
    # retried like an unreachable CalDAV server: Celery's Django fixup drops
    # the broken connection after the task, and the retry opens a new one.
    autoretry_for=(caldav_client.CalDAVUnavailable, OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=4,
)
def export_visits(visit_ids: list[int]) -> dict[str, int]:
    """Render and push a chunk of visits; safe to run twice."""
    try:
        report = caldav_push.push_visits(visit_ids, now=timezone.now())
    except SoftTimeLimitExceeded:
        # A slow server: what is done is recorded; the rest goes on in a
        # fresh task rather than past the visibility timeout.
        export_visits.delay(visit_ids)
        return {"continued": len(visit_ids)}
    return report.as_dict()


@shared_task(acks_late=True)
def reconcile_exports() -> int:
    """Beat, every few minutes: the database says what is still to export."""
    ids = caldav_push.stale_exports(now=timezone.now())
    for chunk in db.chunks(ids, EXPORT_CHUNK_SIZE):
        export_visits.delay(list(chunk))
    if ids:
        logger.info("Re-enqueued the CalDAV export of %d visits", len(ids))
    return len(ids)


@shared_task(acks_late=True)
def audit_calendars() -> dict[str, int]:
    """Beat, hourly: each calendar compared with the database and repaired."""
    reports = caldav_audit.audit_calendars(now=timezone.now())
    return {
        "calendars": len(reports),
        "failed": sum(1 for report in reports if report.error),
        "resent": export_repairs(reports),
        "deleted": sum(len(report.deleted) for report in reports),
    }


def export_repairs(reports: Collection[caldav_audit.AuditReport]) -> int:
    """Enqueue the export of what the audits marked pending, in chunks."""
    ids = sorted({visit_id for report in reports for visit_id in report.resend})
    for chunk in db.chunks(ids, EXPORT_CHUNK_SIZE):
        export_visits.delay(list(chunk))
    return len(ids)
