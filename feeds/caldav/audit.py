"""The CalDAV audit (anti-entropy): each enabled surgeon's calendar compared
with the database, and what differs repaired.

The export trusts its record of what it sent, yet a calendar can drift: a
PUT whose client timed out may still land after the visit's DELETE and
bring the event back for good, or after a newer PUT of the same visit (a
reschedule) and leave the old time in the surgeon's agenda; and an object
deleted by hand or lost in a server restore never comes back. The database
is the single source of truth, so a periodic audit
(`feeds.tasks.audit_calendars`) compares:

- expected: the surgeon's visits that hold a slot
  (`caldav_push.slot_holding_visit_ids`);
- present: the objects on the server named by one of our visit UIDs (one
  PROPFIND, `caldav_client.list_event_uids`; `rendering.visit_id_of_uid`);
- for the objects both expected and present, the version each holds: its
  SEQUENCE, DTSTART and DTEND (one calendar-multiget REPORT of just those
  objects, `caldav_client.stored_versions`, parsed with icalendar).

A surgeon's own events in the same calendar are never read, changed or
deleted.

Repairs, one log line each:

- A missing visit (expected, absent), an extra one (present, not expected)
  whose export DELETEs it from this calendar, or a stale copy (expected and
  present, but with a SEQUENCE lower than the visit's or other times: it
  "holds an older version"; or calendar data that cannot be read) is marked
  pending (`caldav_push.mark_pending`) for the pipeline to export again: the
  per-visit lock and the claim rules order these writes like any other.
- An extra object the export would not DELETE from this calendar (the visit
  was never sent, so its export goes nowhere; it moved to another surgeon
  without a recorded change) or whose visit no longer exists is DELETEd
  here, under the visit's advisory lock, after checking again inside the
  lock that the visit does not belong in this calendar.
- A visit whose export is pending or failed is left alone: the pipeline
  owns it, and the reconciliation sends it again.

A calendar that cannot be listed is reported in words and changes nothing;
the other calendars are still audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from feeds import rendering
from feeds.caldav import client as caldav_client
from feeds.caldav import push as caldav_push
from feeds.caldav.client import CalDAVError, CalendarTarget
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from followup.models import Visit

# Named as before the move into feeds/caldav/: log filters and alerts use it.
logger = logging.getLogger("feeds.caldav_audit")


@dataclass
class AuditReport:
    """What one calendar's audit found and did."""

    surgeon_id: int
    surgeon: str
    # Our objects found on the server.
    checked: int = 0
    # Missing or extra, marked pending: to export (`feeds.tasks`).
    resend: list[int] = field(default_factory=list)
    # Extra objects deleted by the audit itself, by visit id.
    deleted: list[int] = field(default_factory=list)
    # Differing, but their export is pending or failed: the pipeline's.
    skipped: list[int] = field(default_factory=list)
    # Why the audit stopped, in words an admin can act on; "" if it did not.
    error: str = ""

    @property
    def in_sync(self) -> bool:
        return not (self.error or self.resend or self.deleted or self.skipped)


def audit_calendars(*, now: dt.datetime) -> list[AuditReport]:
    """Audit every enabled calendar; one that fails does not stop the others."""
    calendars = caldav_push.enabled_calendars()
    return [
        audit_calendar(calendar, now=now, calendars=calendars)
        for calendar in SurgeonCalendar.objects.filter(enabled=True)
        .select_related("surgeon")
        .order_by("pk")
    ]


def audit_calendar(
    calendar: SurgeonCalendar,
    *,
    now: dt.datetime,
    calendars: dict[int, CalendarTarget] | None = None,
) -> AuditReport:
    """Compare one calendar with the database and repair what differs."""
    report = AuditReport(surgeon_id=calendar.surgeon_id, surgeon=str(calendar.surgeon))
    target = CalendarTarget.of(calendar)
    try:
        present = _our_visit_ids(caldav_client.list_event_uids(target))
    except CalDAVError as exc:
        return _failed(report, exc)
    report.checked = len(present)
    expected = set(caldav_push.slot_holding_visit_ids([calendar.surgeon_id]))
    try:
        stale = _stale_copies(target, expected & present)
    except CalDAVError as exc:
        return _failed(report, exc)
    owned = _owned_by_pipeline((expected ^ present) | stale.keys())
    report.skipped = sorted(owned)
    missing = expected - present - owned
    extra = present - expected - owned
    if calendars is None:
        calendars = caldav_push.enabled_calendars()
    by_export, stray = _split_extra(extra, target, calendars)
    why = {
        **dict.fromkeys(by_export, "is wrongly in"),
        **dict.fromkeys(missing, "is missing from"),
        **{v: w for v, w in stale.items() if v not in owned},
    }
    report.resend = sorted(why)
    if report.resend:
        caldav_push.mark_pending(report.resend, now=now)
    for visit_id in report.resend:
        logger.info(
            "CalDAV audit: visit %s %s the calendar of surgeon %s; export again",
            visit_id,
            why[visit_id],
            calendar.surgeon_id,
            extra={"visit_id": visit_id},
        )
    try:
        for visit_id in sorted(stray):
            if _delete_stray(visit_id, calendar.surgeon_id, target):
                report.deleted.append(visit_id)
    except CalDAVError as exc:
        return _failed(report, exc)
    return report


def _failed(report: AuditReport, exc: CalDAVError) -> AuditReport:
    # The client's words are already scrubbed of credentials.
    report.error = f"The audit of the CalDAV calendar of {report.surgeon} failed: {exc}"
    logger.warning(
        "CalDAV audit of the calendar of surgeon %s failed: %s",
        report.surgeon_id,
        exc,
    )
    return report


def _our_visit_ids(uids: Collection[str]) -> set[int]:
    ids = (rendering.visit_id_of_uid(uid) for uid in uids)
    return {visit_id for visit_id in ids if visit_id is not None}


def _stale_copies(target: CalendarTarget, visit_ids: Collection[int]) -> dict[int, str]:
    """Objects that belong here but hold an older version of their visit (a
    lower SEQUENCE, or other times), or that cannot be read: by visit id,
    what is wrong with them, in words for the log line."""
    uids = {rendering.visit_uid(visit_id): visit_id for visit_id in visit_ids}
    versions = caldav_client.stored_versions(target, uids)
    visits = Visit.objects.only("sequence", "start", "end").in_bulk(
        [uids[uid] for uid in versions if uid in uids]
    )
    stale: dict[int, str] = {}
    for uid, version in versions.items():
        visit = visits.get(uids.get(uid, -1))
        if visit is None:
            continue  # gone since the listing: the next audit sees it
        if version is None:
            stale[visit.pk] = "holds unreadable calendar data in"
        elif version.sequence < visit.sequence or (version.start, version.end) != (
            _to_the_second(visit.start),
            _to_the_second(visit.end),
        ):
            stale[visit.pk] = "holds an older version in"
    return stale


def _to_the_second(moment: dt.datetime | None) -> dt.datetime | None:
    # The rendering writes whole seconds (`ical.local_stamp`).
    return None if moment is None else moment.replace(microsecond=0)


def _owned_by_pipeline(visit_ids: Collection[int]) -> set[int]:
    return set(
        CalendarEntry.objects.filter(
            pk__in=visit_ids,
            export_state__in=(ExportState.PENDING, ExportState.FAILED),
        ).values_list("pk", flat=True)
    )


def _split_extra(
    extra: Collection[int],
    target: CalendarTarget,
    calendars: dict[int, CalendarTarget],
) -> tuple[set[int], set[int]]:
    """Extra objects: those an export DELETEs from `target`, and the rest."""
    visits = Visit.objects.select_related("procedure").in_bulk(extra)
    sent = dict(
        CalendarEntry.objects.filter(pk__in=extra).values_list(
            "pk", "exported_sequence"
        )
    )
    by_export = {
        visit.pk
        for visit in visits.values()
        if caldav_push.export_deletes_from(
            visit, target, calendars, never_sent=sent.get(visit.pk, -1) < 0
        )
    }
    return by_export, set(extra) - by_export


def _delete_stray(visit_id: int, surgeon_id: int, target: CalendarTarget) -> bool:
    """DELETE an object the export would leave; False if it now belongs."""
    with caldav_push.visit_lock(visit_id):
        # Any export of this visit waits for the lock: read it again now.
        visit = Visit.objects.select_related("procedure").filter(pk=visit_id).first()
        if (
            visit is not None
            and caldav_push.holds_calendar_slot(visit)
            and caldav_push.calendar_surgeon_id(visit) == surgeon_id
        ):
            return False
        caldav_client.delete_event(target, uid=rendering.visit_uid(visit_id))
    logger.info(
        "CalDAV audit: deleted visit %s from the calendar of surgeon %s (%s)",
        visit_id,
        surgeon_id,
        "no such visit" if visit is None else "it does not belong there",
        extra={"visit_id": visit_id},
    )
    return True
