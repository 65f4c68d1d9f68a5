"""Consultation hours: when a surgeon can be booked, as wall-clock times.

A surgeon's weekly `ConsultationSession` rows, or the clinic's `CLINIC_HOURS`
for a surgeon with none, become `Hours` blocks. A booking fits a block when
it lies inside it on the block's local weekday (clinic zone) and starts on
its grid: start time + k * slot length. Local times are built with zoneinfo
from the wall clock and durations are added in UTC, never to a local time,
so a 09:00 session is 09:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings

from clinic.clock import clinic_zone, local
from clinic.models import Surgeon
from followup.exceptions import InvalidInput
from followup.services import slot_reads


@dataclass(frozen=True)
class Hours:
    """One weekly block in which a surgeon can be booked (wall-clock times)."""

    weekday: int
    start: dt.time
    end: dt.time
    slot_minutes: int
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def applies_on(self, day: dt.date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} every {self.slot_minutes} min"


def show(moment: dt.datetime) -> str:
    return f"{local(moment):%a %Y-%m-%d %H:%M}"


def clinic_hours() -> list[Hours]:
    return [
        Hours(weekday=day, start=start, end=end, slot_minutes=slot)
        for day, start, end, slot in settings.CLINIC_HOURS
    ]


def hours_of(surgeon_id: int) -> list[Hours]:
    """The surgeon's weekly sessions; the clinic hours when they have none."""
    hours = [Hours(*row) for row in slot_reads.sessions(surgeon_id)]
    return hours or clinic_hours()


def minutes(clock: dt.time) -> int:
    return clock.hour * 60 + clock.minute


def fits(hours: Hours, start: dt.datetime, end: dt.datetime) -> bool:
    """Inside the block on its local day, starting on the block's grid."""
    local_start, local_end = local(start), local(end)
    day = local_start.date()
    if not hours.applies_on(day) or local_end.date() != day:
        return False
    if local_start.second or local_start.microsecond:
        return False
    offset = minutes(local_start.time()) - minutes(hours.start)
    return (
        offset >= 0
        and offset % hours.slot_minutes == 0
        and local_end.time() <= hours.end
    )


def grid(
    hours: Iterable[Hours], day: dt.date, length: dt.timedelta
) -> Iterator[dt.datetime]:
    """Every start on `day` that fits one of the blocks, soonest first, in UTC."""
    zone = clinic_zone()
    starts: set[dt.datetime] = set()
    for block in hours:
        if not block.applies_on(day):
            continue
        for minute in range(
            minutes(block.start), minutes(block.end), block.slot_minutes
        ):
            wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), zone)
            start = wall.astimezone(dt.UTC)
            if local(start).replace(tzinfo=None) != wall.replace(tzinfo=None):
                continue  # a wall time the daylight-saving change skips
            if fits(block, start, start + length):
                starts.add(start)
    yield from sorted(starts)


# (start in UTC, start and end on the clinic's clock) of each grid start.
GridStart = tuple[dt.datetime, dt.datetime, dt.datetime]


@functools.lru_cache(maxsize=4096)
def day_grid(
    hours: tuple[Hours, ...],
    day: dt.date,
    length: dt.timedelta,
    zone: zoneinfo.ZoneInfo,
) -> tuple[GridStart, ...]:
    """`grid`'s starts on `day`, each with its start and end on the clinic's
    clock (`zone`, the clinic's: part of the key, as a test may change it).

    A pure function of its arguments, kept: a booking page shows a surgeon's
    next days, the same days for every patient of that surgeon, and building
    them (zone conversions for every start) cost a page about a millisecond.
    """
    return tuple(
        (start, start.astimezone(zone), (start + length).astimezone(zone))
        for start in grid(hours, day, length)
    )


def check_hours(surgeon: Surgeon, start: dt.datetime, end: dt.datetime) -> None:
    hours = hours_of(surgeon.pk)
    if any(fits(block, start, end) for block in hours):
        return
    day = local(start).date()
    today = [block for block in hours if block.applies_on(day)]
    if not today:
        raise InvalidInput(
            f"{surgeon} has no consultation on {day:%A} {day}; "
            "choose one of the proposed slots.",
            code="outside_sessions",
            params={"surgeon": str(surgeon), "day": day, "start": start},
        )
    blocks = ", ".join(block.label() for block in today)
    raise InvalidInput(
        f"{show(start)} to {local(end):%H:%M} does not fit {surgeon}'s "
        f"consultation on {day:%A}s ({blocks}); a booking must lie inside a "
        "session and start on its slot grid.",
        code="outside_sessions",
        params={"surgeon": str(surgeon), "start": start},
    )
