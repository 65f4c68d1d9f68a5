"""What every fault and load test checks at the end, on any database URL
(the test's own, or a throwaway cluster's) with plain SQL, and on Radicale:

- `double_bookings`: pairs of visits holding overlapping slots of one
  surgeon or one patient (the exclusion constraints' promise);
- `settle_exports`: the reconciliation, run until no entry is pending or
  failed (bounded);
- `compare_calendars`: each surgeon's Radicale calendar against the visits
  that hold a slot of theirs in the database. A visit missing, at another
  time, or still there after it left the calendar is a lost change; a UID
  stored twice is a doubled one.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from feeds.rendering import visit_uid
from tests.feeds.conftest import Radicale, wait_until

HELD = ("booked", "checked_in", "completed")
RESEND_SECONDS = 5

_OVERLAPS = """
SELECT count(*) FROM followup_visit a JOIN followup_visit b
  ON a.id < b.id
 AND (a.surgeon_id = b.surgeon_id OR a.patient_id = b.patient_id)
 AND tstzrange(a.start, a."end", '[)') && tstzrange(b.start, b."end", '[)')
WHERE a.status = ANY(%(held)s) AND b.status = ANY(%(held)s)
  AND a.start IS NOT NULL AND b.start IS NOT NULL
"""


def double_bookings(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(_OVERLAPS, {"held": list(HELD)}).fetchone()
    assert row is not None
    return int(row[0])


def unsettled_exports(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT visit_id FROM feeds_calendarentry"
            " WHERE export_state IN ('pending', 'failed') ORDER BY visit_id"
        ).fetchall()
    return [visit_id for (visit_id,) in rows]


def settle_exports(database_url: str, *, timeout: float = 120) -> list[int]:
    """What the beat task's reconciliation does, without waiting minutes for
    entries to count as stale: re-enqueue every pending or failed entry,
    every few seconds, until none is left. Returns those left at the end."""
    from feeds.tasks import export_visits

    sent_at = -math.inf

    def settled() -> bool:
        nonlocal sent_at
        left = unsettled_exports(database_url)
        # Re-sent every few seconds only: the worker's own retries usually
        # finish first, and a chunk sent twice would just be skipped.
        if left and time.monotonic() - sent_at >= RESEND_SECONDS:
            export_visits.delay(left)
            sent_at = time.monotonic()
        return not left

    wait_until(settled, timeout=timeout, every=0.5)
    return unsettled_exports(database_url)


@dataclass
class CalendarCheck:
    expected: int = 0  # visits that should be in some calendar
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)


def held_slots(
    database_url: str, surgeon_ids: list[int]
) -> dict[int, dict[str, dt.datetime]]:
    """Each surgeon's visits that belong in their calendar: UID -> start."""
    held: dict[int, dict[str, dt.datetime]] = {pk: {} for pk in surgeon_ids}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, surgeon_id, start FROM followup_visit"
            " WHERE status = ANY(%s) AND start IS NOT NULL AND surgeon_id = ANY(%s)",
            [list(HELD), surgeon_ids],
        ).fetchall()
    for visit_id, surgeon_id, start in rows:
        held[surgeon_id][visit_uid(visit_id)] = start
    return held


def compare_calendars(
    database_url: str, radicale: Radicale, calendars: Mapping[int, str]
) -> CalendarCheck:
    """`calendars`: surgeon id -> calendar URL."""
    check = CalendarCheck()
    expected = held_slots(database_url, list(calendars))
    for surgeon_id, url in calendars.items():
        want = expected[surgeon_id]
        check.expected += len(want)
        have = radicale.events_by_uid(url)
        for uid, start in want.items():
            copies = have.get(uid, [])
            if len(copies) > 1:
                check.doubled.append(uid)
            if not any(event["DTSTART"].dt == start for event in copies):
                check.lost.append(f"{uid}: missing or not at {start.isoformat()}")
        check.lost.extend(
            f"{uid}: still in surgeon {surgeon_id}'s calendar"
            for uid in have
            if uid not in want
        )
    return check
