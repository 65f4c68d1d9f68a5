"""The export state machine: pushing visits to surgeons' CalDAV calendars,
recorded in `CalendarEntry` (the HTTP side is `feeds.caldav.client`).

What a surgeon's calendar holds: each visit of theirs that holds a slot
(booked, checked in, completed), stored under its stable UID. A visit's
first export is a PUT with `If-None-Match: *`; later ones overwrite the
object (the database is the single source of truth, and the per-visit lock
below keeps pushes of one visit in order). A visit that no longer holds a
slot (unbooked, no-show, cancelled) is DELETEd by UID; a 404 counts as done.
A visit moved to another surgeon is also DELETEd from the first one's
calendar (the booking service records the change of surgeon).

DELETE rather than a `STATUS:CANCELLED` copy: the surgeon's agenda shows
the slot free again, no patient label is left on a third-party server after
the visit is gone, and a second DELETE is harmless.

Idempotence, healthchecks style: a push is claimed with a conditional
update on the entry (same pending change, no newer sequence claimed,
attempts under the cap) that records the sequence and counts the attempt,
so an older sequence never goes out after a newer one, a task delivered
twice pushes once, and a poison visit that kills its worker every time
cannot loop forever. `exported_sequence` is -1 until a first push is
attempted: a visit never sent anywhere needs no DELETE. Two workers
exporting the same visit take a PostgreSQL advisory lock on it, so their
pushes go out one after the other, each with the state it read.

Visits never sent anywhere that need no request (generated visits still to
book, surgeons without a calendar: most of a CSV import) are settled as
`nothing_to_push`, never `exported`, for the whole chunk in a few
statements, without the per-visit lock.

Failures are stored as the client words them: something an admin can act
on, never credentials.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet

from core import db, locks
from feeds import rendering
from feeds.caldav.client import (
    CalDAVError,
    CalDAVUnavailable,
    CalendarTarget,
    delete_event,
    put_event,
)
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from followup.models import SLOT_HOLDING_STATUSES, Visit, VisitEvent

# Named as before the move into feeds/caldav/: log filters and alerts use it.
logger = logging.getLogger("feeds.caldav_push")

# At most this many ids re-enqueued per reconciliation, so a long outage
# does not pile up copies of the same backlog every few minutes.
RECONCILE_LIMIT = 20_000
# pg_advisory_lock(int, int): a namespace of our own, then the visit id.
_LOCK_NAMESPACE = 0x0CA1DA5


def visit_lock(visit_id: int) -> contextlib.AbstractContextManager[None]:
    # A session lock, not a row lock: it serializes pushes of one visit
    # across workers without holding a transaction open during HTTP, so a
    # booking never waits for a CalDAV server. SQLite (the demo) has one
    # writer and no such lock; the claim below still guards it.
    return locks.advisory_lock(_LOCK_NAMESPACE, visit_id % 2**31)


def holds_calendar_slot(visit: Visit) -> bool:
    # A no-show frees the slot: the visit goes back to the front desk to rebook.
    return (
        visit.status in SLOT_HOLDING_STATUSES
        and visit.start is not None
        and visit.surgeon_id is not None
    )


def slot_holding_visit_ids(surgeon_ids: Sequence[int]) -> list[int]:
    """These surgeons' visits that belong in their calendars: what a full
    export of those calendars sends, one PUT each."""
    return list(
        Visit.objects.filter(
            surgeon_id__in=surgeon_ids,
            status__in=SLOT_HOLDING_STATUSES,
            start__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def calendar_surgeon_id(visit: Visit) -> int:
    """Whose calendar the visit belongs to: who sees the patient, else the
    procedure's surgeon (where a visit never booked would be deleted from)."""
    return visit.surgeon_id or visit.procedure.surgeon_id


@dataclass
class PushReport:
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return dict(self.outcomes)


def enabled_calendars() -> dict[int, CalendarTarget]:
    """Where each surgeon's visits go: enabled calendars by surgeon id."""
    return {
        c.surgeon_id: CalendarTarget.of(c)
        for c in SurgeonCalendar.objects.filter(enabled=True)
    }


def _load_visit(visit_id: int) -> Visit | None:
    return (
        Visit.objects.select_related("procedure__patient", "surgeon", "rule")
        .with_mri_status()
        .filter(pk=visit_id)
        .first()
    )


def push_visits(visit_ids: Sequence[int], *, now: dt.datetime) -> PushReport:
    """Render these visits' entries, then push each to its surgeon's calendar.

    Raises `CalDAVUnavailable` at the first unreachable server, after
    recording the failure: the rest of the batch stays pending for a retry.
    """
    report = PushReport()
    visits = list(Visit.objects.filter(pk__in=visit_ids).only("pk").order_by("pk"))
    if not visits:
        return report
    # Render once for the feeds, whatever the CalDAV outcome.
    rendering.refresh_entries(visits)
    calendars = enabled_calendars()
    settled = _settle_never_sent(
        [visit.pk for visit in visits], calendars, report=report
    )
    for visit in visits:
        if visit.pk in settled:
            continue
        outcome = _push_one(visit.pk, calendars, now=now)
        report.outcomes[outcome] += 1
        logger.info(
            "CalDAV export of visit %s: %s",
            visit.pk,
            outcome,
            extra={"visit_id": visit.pk},
        )
    return report


def _settle_never_sent(
    visit_ids: list[int],
    calendars: dict[int, CalendarTarget],
    *,
    report: PushReport,
) -> set[int]:
    """Settle in bulk the visits that were never sent and need no request.

    Most of a CSV import: visits still to book, or of surgeons without a
    calendar. One read, then one update per pending change: a visit changed
    since the read has a new `pending_since`, so the update skips it and it
    goes through the per-visit path of its own task.
    """
    rows = CalendarEntry.objects.filter(
        pk__in=visit_ids,
        exported_sequence__lt=0,
        export_state__in=(ExportState.PENDING, ExportState.FAILED),
    ).values_list(
        "pk",
        "pending_since",
        "visit__status",
        "visit__start",
        "visit__surgeon_id",
        "visit__procedure__surgeon_id",
    )
    groups: dict[dt.datetime | None, list[int]] = {}
    for pk, pending_since, status, start, surgeon_id, procedure_surgeon_id in rows:
        has_calendar = (surgeon_id or procedure_surgeon_id) in calendars
        in_calendar = (
            status in SLOT_HOLDING_STATUSES
            and start is not None
            and surgeon_id is not None
        )
        if has_calendar and in_calendar:
            continue  # a first PUT: the per-visit path
        groups.setdefault(pending_since, []).append(pk)
    settled: set[int] = set()
    for since, pks in groups.items():
        updated = CalendarEntry.objects.filter(
            pk__in=pks,
            pending_since=since,
            exported_sequence__lt=0,
            export_state__in=(ExportState.PENDING, ExportState.FAILED),
        ).update(
            export_state=ExportState.NOTHING_TO_PUSH,
            exported_at=None,
            pending_since=None,
            export_error="",
        )
        report.outcomes[ExportState.NOTHING_TO_PUSH.value] += updated
        if updated == len(pks):
            settled.update(pks)
        # Otherwise one of them changed meanwhile: the group takes the
        # per-visit path, where the settled ones are already done.
    return settled


@dataclass(frozen=True)
class _Route:
    """Where one visit's change goes: its calendar now, and the ones it left."""

    target: CalendarTarget | None
    in_calendar: bool
    never_sent: bool
    previous: list[CalendarTarget]

    @property
    def goes_nowhere(self) -> bool:
        # Nothing to create or delete anywhere: never sent (a generated visit
        # still to book, a surgeon without a calendar), or sent only to
        # calendars that are gone.
        return (self.never_sent and (self.target is None or not self.in_calendar)) or (
            self.target is None and not self.previous
        )

    @property
    def deleted_from(self) -> list[CalendarTarget]:
        """The calendars a push DELETEs the object from."""
        if self.goes_nowhere:
            return []
        here = [] if self.target is None or self.in_calendar else [self.target]
        return here + self.previous


def _push_one(
    visit_id: int, calendars: dict[int, CalendarTarget], *, now: dt.datetime
) -> str:
    cap = settings.CALDAV_EXPORT_MAX_ATTEMPTS
    with visit_lock(visit_id):
        # The entry first, then the visit: any change after this read sets a
        # new pending_since, so the conditional updates below cannot record
        # an older state as the exported one.
        entry = _pending_entry(visit_id)
        visit = None if entry is None else _load_visit(visit_id)
        if entry is None or visit is None:
            return "already_done"
        this_change = CalendarEntry.objects.filter(
            pk=visit_id,
            pending_since=entry["pending_since"],
            export_state__in=(ExportState.PENDING, ExportState.FAILED),
        )
        route = _route(visit, calendars, never_sent=entry["exported_sequence"] < 0)
        if route.goes_nowhere:
            this_change.update(
                export_state=ExportState.NOTHING_TO_PUSH,
                pending_since=None,
                export_error="",
            )
            return ExportState.NOTHING_TO_PUSH.value
        refused = _claim(
            this_change, entry, visit_id=visit_id, sequence=visit.sequence, cap=cap
        )
        if refused:
            return refused
        try:
            _send(visit, route)
        except CalDAVError as exc:
            this_change.update(export_state=ExportState.FAILED, export_error=str(exc))
            logger.warning(
                "CalDAV export of visit %s failed: %s",
                visit_id,
                exc,
                extra={"visit_id": visit_id},
            )
            if isinstance(exc, CalDAVUnavailable):
                raise
            return "failed"
        this_change.update(
            export_state=ExportState.EXPORTED,
            exported_at=now,
            pending_since=None,
            export_error="",
        )
        return "exported"


def _pending_entry(visit_id: int) -> Mapping[str, Any] | None:
    """The entry's export fields, if its change is still to push."""
    entry = (
        CalendarEntry.objects.filter(pk=visit_id)
        .values(
            "export_state",
            "pending_since",
            "export_attempts",
            "exported_sequence",
            "export_error",
        )
        .first()
    )
    if entry is None or entry["export_state"] not in (
        ExportState.PENDING,
        ExportState.FAILED,
    ):
        return None
    return entry


def _route(
    visit: Visit, calendars: dict[int, CalendarTarget], *, never_sent: bool
) -> _Route:
    return _Route(
        target=calendars.get(calendar_surgeon_id(visit)),
        in_calendar=holds_calendar_slot(visit),
        never_sent=never_sent,
        previous=[] if never_sent else _previous_calendars(visit, calendars),
    )


def _claim(
    this_change: QuerySet[CalendarEntry],
    entry: Mapping[str, Any],
    *,
    visit_id: int,
    sequence: int,
    cap: int,
) -> str | None:
    """Claim the push of this change; None when claimed, else why not.

    The claim: this sequence is now the one being exported, so no older one
    can claim after it; an attempt is counted before the push, so a push
    that kills its worker still counts.
    """
    claimed = this_change.filter(
        exported_sequence__lte=sequence, export_attempts__lt=cap
    ).update(export_attempts=F("export_attempts") + 1, exported_sequence=sequence)
    if claimed:
        return None
    if entry["export_attempts"] >= cap:
        give_up(visit_id, cap=cap, last_error=entry["export_error"])
        return "gave_up"
    return "superseded"


def _send(visit: Visit, route: _Route) -> None:
    """The requests: the object PUT or DELETEd, and copies left elsewhere gone."""
    uid = rendering.visit_uid(visit)
    if route.target is not None and route.in_calendar:
        put_event(
            route.target,
            uid=uid,
            ical=rendering.render_calendar_object(visit),
            create=route.never_sent,
        )
    # No longer holding a slot, or moved away from these surgeons: it goes.
    for other in route.deleted_from:
        delete_event(other, uid=uid)


def export_deletes_from(
    visit: Visit,
    target: CalendarTarget,
    calendars: dict[int, CalendarTarget],
    *,
    never_sent: bool,
) -> bool:
    """Whether an export of the visit as it is now DELETEs it from `target`."""
    return target in _route(visit, calendars, never_sent=never_sent).deleted_from


def _previous_calendars(
    visit: Visit, calendars: dict[int, CalendarTarget]
) -> list[CalendarTarget]:
    """Calendars of surgeons the visit was moved away from (the booking
    service records each change of surgeon): the old copy must go."""
    current = calendar_surgeon_id(visit)
    before = VisitEvent.objects.filter(
        visit_id=visit.pk, details__has_key="surgeon"
    ).values_list("details__surgeon__before", flat=True)
    return [
        calendars[surgeon_id]
        for surgeon_id in set(before)
        if surgeon_id is not None and surgeon_id != current and surgeon_id in calendars
    ]


def give_up(visit_id: int, *, cap: int, last_error: str) -> None:
    """Stop a visit that failed (or killed its worker) `cap` times."""
    if last_error.startswith("Gave up"):
        return
    message = (
        f"Gave up after {cap} attempts; fix the cause, then use the admin's "
        f"re-send action. Last error: {last_error or 'none recorded (worker lost)'}"
    )
    CalendarEntry.objects.filter(
        pk=visit_id, export_state__in=(ExportState.PENDING, ExportState.FAILED)
    ).update(export_state=ExportState.FAILED, export_error=message)
    logger.error(
        "CalDAV export of visit %s: %s",
        visit_id,
        message,
        extra={"visit_id": visit_id},
    )


# --- entering and leaving the pipeline ---------------------------------------


def mark_pending(ids: list[int], *, now: dt.datetime) -> None:
    """Mark these visits' entries (made if missing) pending since `now`.

    `ids` sorted, so concurrent transactions lock entry rows in the same
    order. One statement whatever the number of ids.
    """
    # The ids travel as one array parameter on PostgreSQL. Measured in the
    # 10,000-procedure import (35,000 visits): 0.3 s, against 2.4 s with
    # bulk_create building 35,000 model rows. Other columns take their
    # model defaults, read from the model so that a field added later
    # cannot be forgotten.
    db.upsert_many(CalendarEntry, key="visit", keys=ids, values=_pending_fields(now))


def _pending_fields(now: dt.datetime) -> dict[str, object]:
    return {
        "export_state": ExportState.PENDING,
        "pending_since": now,
        "export_attempts": 0,
        "export_error": "",
    }


def stale_exports(*, now: dt.datetime) -> list[int]:
    """Ids of entries pending too long or failed, under the attempt cap."""
    cap = settings.CALDAV_EXPORT_MAX_ATTEMPTS
    # A poison visit kills its worker before any failure is recorded: stop it.
    for entry in CalendarEntry.objects.filter(
        export_state=ExportState.PENDING, export_attempts__gte=cap
    ).values("pk", "export_error"):
        give_up(entry["pk"], cap=cap, last_error=entry["export_error"])
    stale_before = now - dt.timedelta(minutes=settings.CALDAV_EXPORT_STALE_MINUTES)
    return list(
        CalendarEntry.objects.filter(export_attempts__lt=cap)
        .filter(
            Q(export_state=ExportState.FAILED)
            | Q(export_state=ExportState.PENDING, pending_since__lt=stale_before)
            | Q(export_state=ExportState.PENDING, pending_since=None)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:RECONCILE_LIMIT]
    )
