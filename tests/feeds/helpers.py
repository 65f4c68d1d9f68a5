"""Booking visits for feed tests, and reading feeds back."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from core.tokens import hash_token, looks_like_token
from feeds.export import visits_changed
from feeds.lookup import ActiveLink, find_active_by_digest
from feeds.models import CalendarEntry, ExportState
from feeds.tasks import export_visits
from followup.models import Visit, VisitStatus

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


def book(
    visit: Visit,
    day: dt.date,
    hour: int = 9,
    minute: int = 0,
    *,
    surgeon_id: int | None = None,
    reschedule: bool = False,
) -> Visit:
    """Give a visit a slot as the booking service does, hook included.

    The hook runs (feed versions rise) but the export task never does:
    inside a test's transaction nothing is committed, like a stopped worker.
    """
    visit.status = VisitStatus.BOOKED
    visit.start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MADRID)
    visit.end = visit.start + dt.timedelta(minutes=visit.duration_minutes)
    visit.surgeon_id = surgeon_id or visit.surgeon_id
    if reschedule:
        visit.sequence += 1
    visit.save(
        update_fields=["status", "start", "end", "surgeon", "sequence", "updated_at"]
    )
    visits_changed([visit.pk])
    return visit


def cancel(visit: Visit, reason: str) -> Visit:
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = reason
    visit.cancelled_by = "other"
    visit.save(update_fields=["status", "cancel_reason", "cancelled_by", "updated_at"])
    visits_changed([visit.pk])
    return visit


def find_active(token: str) -> ActiveLink | None:
    """The live link this token opens with its feed's version, or None.

    One single-row query: the link carries a copy of its feed's stamp.
    """
    if not looks_like_token(token):
        return None
    return find_active_by_digest(hash_token(token))


def export_pending() -> dict[str, int]:
    """What a worker would do with everything scheduled so far."""
    pending = CalendarEntry.objects.filter(export_state=ExportState.PENDING)
    return export_visits(list(pending.order_by("pk").values_list("pk", flat=True)))


def entry_of(visit: Visit) -> CalendarEntry:
    return CalendarEntry.objects.get(pk=visit.pk)
