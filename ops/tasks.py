"""Celery beat's heartbeat: a task beat schedules every minute, which stamps
a row. A stale stamp means beat (or every worker) has stopped, so neither the
export reconciliation nor the annual-review horizon runs any more.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from ops import health


@shared_task(ignore_result=True)
def stamp_heartbeat() -> None:
    health.record_beat(now=timezone.now())
