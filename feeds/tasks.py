"""The export pipeline's Celery tasks: export, reconcile, audit. Thin: the
state machine is `feeds.caldav.push`, the scheduling `feeds.export`; here
are the retry policy and the beat entries.

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

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from feeds import export
from feeds.caldav import client as caldav_client
from feeds.caldav import push as caldav_push

logger = logging.getLogger(__name__)


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
    return export.reconcile(now=timezone.now())


@shared_task(acks_late=True)
def audit_calendars() -> dict[str, int]:
    """Beat, hourly: each calendar compared with the database and repaired."""
    return export.audit_and_repair(now=timezone.now())
