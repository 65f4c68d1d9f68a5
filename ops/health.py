"""What `/healthz` reports: the database, the broker, Celery beat's heartbeat
and the CalDAV export backlog. Figures only: counts and ages, never a row's
content, so the answer reveals nothing about any patient.

Each check costs little: one query for the heartbeat, one aggregate for the
backlog (on the `export_state, pending_since` index), and a broker
connection with a short timeout at most once every HEALTH_BROKER_CACHE_SECONDS
per process: a probe (or anyone) polling often opens no connection per
request.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce

from feeds.models import CalendarEntry, ExportState
from ops.models import Heartbeat

# The heartbeat's row: stamped every minute by beat (`ops.tasks`).
BEAT = "beat"


def record_beat(*, now: dt.datetime) -> None:
    """Stamp the heartbeat: beat and a worker are running."""
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"beat_at": now})


BROKER_TIMEOUT_SECONDS = 2


@dataclass
class HealthReport:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.healthy else "fail", "checks": self.checks}


def _age_seconds(then: dt.datetime | None, now: dt.datetime) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def _ask_broker() -> dict[str, Any]:
    # The Celery app's own connection settings (URL, transport options), so
    # the check asks exactly the broker the web process sends tasks to.
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except Exception as exc:  # any transport error means unreachable
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


# (broker URL, when asked, answer): the last answer of this process.
_broker_memo: tuple[str, dt.datetime, dict[str, Any]] | None = None
_broker_lock = threading.Lock()


def forget_broker_status() -> None:
    global _broker_memo
    _broker_memo = None


def check_broker(*, now: dt.datetime) -> dict[str, Any]:
    """The broker's state, asked again only when the last answer is older
    than HEALTH_BROKER_CACHE_SECONDS (or named another broker)."""
    global _broker_memo
    from config.celery import app

    url = str(app.conf.broker_url)
    ttl = dt.timedelta(seconds=settings.HEALTH_BROKER_CACHE_SECONDS)
    with _broker_lock:
        memo = _broker_memo
        if memo is not None and memo[0] == url and memo[1] <= now < memo[1] + ttl:
            return dict(memo[2])
        answer = _ask_broker()
        _broker_memo = (url, now, answer)
    return dict(answer)


def check_heartbeat(now: dt.datetime) -> dict[str, Any]:
    limit = settings.HEALTH_BEAT_STALE_SECONDS
    beat_at = (
        Heartbeat.objects.filter(name=BEAT).values_list("beat_at", flat=True).first()
    )
    age = _age_seconds(beat_at, now)
    return {"ok": age is not None and age <= limit, "age_seconds": age, "limit": limit}


def check_exports(now: dt.datetime) -> dict[str, Any]:
    limit = settings.HEALTH_EXPORT_BACKLOG_SECONDS
    figures = CalendarEntry.objects.aggregate(
        pending=Count("pk", filter=Q(export_state=ExportState.PENDING)),
        failed=Count("pk", filter=Q(export_state=ExportState.FAILED)),
        oldest=Min("pending_since", filter=Q(export_state=ExportState.PENDING)),
    )
    age = _age_seconds(figures["oldest"], now)
    return {
        # Failed exports are counted, not fatal: they wait for a person (or
        # the reconciliation), and taking every web process out of the load
        # balancer would not send them.
        "ok": age is None or age <= limit,
        "pending": figures["pending"],
        "failed": figures["failed"],
        "oldest_pending_age_seconds": age,
        "limit": limit,
    }


def health(*, now: dt.datetime) -> HealthReport:
    report = HealthReport()
    try:
        report.checks["beat"] = check_heartbeat(now)
        report.checks["exports"] = check_exports(now)
        report.checks["database"] = {"ok": True}
    except DatabaseError as exc:
        report.checks = {"database": {"ok": False, "error": type(exc).__name__}}
    report.checks["broker"] = check_broker(now=now)
    return report


@dataclass(frozen=True)
class SurgeonBacklog:
    surgeon_id: int
    surgeon: str
    pending: int
    failed: int
    oldest_pending_age_seconds: int | None


def export_backlog_by_surgeon(*, now: dt.datetime) -> list[SurgeonBacklog]:
    """Pending and failed exports per surgeon whose calendar they belong to
    (who sees the patient, else who operated: `feeds.caldav.push.calendar_surgeon_id`),
    surgeons with nothing waiting left out. One query and one for the names."""
    from clinic.models import Surgeon

    rows = (
        CalendarEntry.objects.filter(
            export_state__in=[ExportState.PENDING, ExportState.FAILED]
        )
        .annotate(owner=Coalesce("visit__surgeon_id", "visit__procedure__surgeon_id"))
        .values("owner")
        .annotate(
            pending=Count("pk", filter=Q(export_state=ExportState.PENDING)),
            failed=Count("pk", filter=Q(export_state=ExportState.FAILED)),
            oldest=Min("pending_since", filter=Q(export_state=ExportState.PENDING)),
        )
    )
    figures = {row["owner"]: row for row in rows}
    names = Surgeon.objects.in_bulk(list(figures))
    return [
        SurgeonBacklog(
            surgeon_id=surgeon.pk,
            surgeon=str(surgeon),
            pending=figures[surgeon.pk]["pending"],
            failed=figures[surgeon.pk]["failed"],
            oldest_pending_age_seconds=_age_seconds(figures[surgeon.pk]["oldest"], now),
        )
        for surgeon in sorted(
            names.values(), key=lambda s: (s.family_name, s.given_name, s.pk)
        )
    ]
