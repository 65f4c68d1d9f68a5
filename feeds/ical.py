"""The iCalendar wire format (RFC 5545) as the feeds write it.

Hand-written rather than built with `icalendar`: the feeds render every entry
once and join stored bodies, so the writer must be exact and cheap, and the
rules that calendar clients enforce are few.

- Lines end in CRLF and are folded at 75 octets, never inside a UTF-8
  sequence nor between a backslash and the character it escapes.
- The VTIMEZONE of a zone is written in RRULE form (one STANDARD and one
  DAYLIGHT rule), as Outlook needs; zones whose rules cannot be expressed
  that way fall back to `icalendar`'s RDATE form.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass

CRLF = "\r\n"
MAX_OCTETS = 75
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def _cut(data: bytes, start: int, limit: int) -> int:
    """The end of the longest chunk from `start` within `limit` octets."""
    end = min(start + limit, len(data))
    if end == len(data):
        return end
    # Never cut inside a UTF-8 sequence: back off continuation bytes.
    while end > start and data[end] & 0xC0 == 0x80:
        end -= 1
    # Never separate an escape's backslash from its character.
    backslashes = 0
    while end - backslashes - 1 >= start and data[end - backslashes - 1] == 0x5C:
        backslashes += 1
    if backslashes % 2 == 1:
        end -= 1
    return end


def fold(line: str) -> str:
    """One content line folded at 75 octets (no trailing CRLF)."""
    data = line.encode()
    if len(data) <= MAX_OCTETS:
        return line
    parts = []
    start = 0
    limit = MAX_OCTETS
    while start < len(data):
        end = _cut(data, start, limit)
        parts.append(data[start:end].decode())
        start = end
        limit = MAX_OCTETS - 1  # a continuation line starts with a space
    return (CRLF + " ").join(parts)


def join_lines(lines: list[str]) -> str:
    """Content lines folded, each ending in CRLF."""
    return "".join(fold(line) + CRLF for line in lines)


def utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def local_stamp(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def date_stamp(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _offset(delta: dt.timedelta | None) -> str:
    seconds = int((delta or dt.timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}{minutes:02d}"
    return text + (f"{secs:02d}" if secs else "")


def _transitions(zone: dt.tzinfo, year: int) -> list[dt.datetime]:
    """The UTC instants in `year` at which the zone's offset changes."""
    found = []
    moment = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(hours=1)
    before = moment.astimezone(zone).utcoffset()
    while moment < end:
        after_moment = moment + step
        after = after_moment.astimezone(zone).utcoffset()
        if after != before:
            # Narrow to the minute: some zones change at half hours.
            low = moment
            while low + dt.timedelta(minutes=1) < after_moment:
                mid = low + (after_moment - low) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= low:
                    break
                if mid.astimezone(zone).utcoffset() == before:
                    low = mid
                else:
                    after_moment = mid
            found.append(after_moment)
            before = after
        moment += step
    return found


@dataclass(frozen=True)
class _Rule:
    """One yearly change of offset, as an RRULE can say it."""

    daylight: bool
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    month: int
    weekday: int
    nth: int  # -1 for the last such weekday of the month
    wall_time: dt.time

    def day_in(self, year: int) -> dt.date:
        days = [
            day
            for day in calendar.Calendar().itermonthdates(year, self.month)
            if day.month == self.month and day.weekday() == self.weekday
        ]
        return days[self.nth - 1] if self.nth > 0 else days[self.nth]


def _rules(zone: dt.tzinfo, year: int) -> list[_Rule]:
    """The zone's changes of offset in `year`, each read as a yearly rule."""
    rules = []
    for instant in _transitions(zone, year):
        before = (instant - dt.timedelta(minutes=1)).astimezone(zone).utcoffset()
        after = instant.astimezone(zone)
        offset_to = after.utcoffset()
        if before is None or offset_to is None:
            raise ValueError(f"{zone} gives no UTC offset")
        wall = (instant + before).replace(tzinfo=None)
        last_day = calendar.monthrange(wall.year, wall.month)[1]
        rules.append(
            _Rule(
                daylight=bool(after.dst()),
                offset_from=before,
                offset_to=offset_to,
                name=after.tzname() or _offset(offset_to),
                month=wall.month,
                weekday=wall.weekday(),
                nth=-1 if wall.day + 7 > last_day else (wall.day - 1) // 7 + 1,
                wall_time=wall.time(),
            )
        )
    return rules


def _rules_repeat(zone: dt.tzinfo, rules: list[_Rule], year: int) -> bool:
    """Whether `rules` predict the zone's real changes in `year`."""
    actual = _transitions(zone, year)
    if len(actual) != len(rules):
        return False
    for instant, rule in zip(actual, rules, strict=True):
        wall = (instant + rule.offset_from).replace(tzinfo=None)
        if (wall.date(), wall.time()) != (rule.day_in(year), rule.wall_time):
            return False
    return True


@functools.lru_cache(maxsize=8)
def vtimezone(tzid: str, year: int) -> str:
    """The VTIMEZONE block of `tzid` (folded, CRLF), its rules as of `year`."""
    zone = zoneinfo.ZoneInfo(tzid)
    rules = _rules(zone, year)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}", f"X-LIC-LOCATION:{tzid}"]
    if not rules:
        moment = dt.datetime(year, 1, 1, tzinfo=zone)
        offset = _offset(moment.utcoffset())
        lines += [
            "BEGIN:STANDARD",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            f"TZNAME:{escape_text(moment.tzname() or offset)}",
            "DTSTART:19700101T000000",
            "END:STANDARD",
        ]
    elif _rules_repeat(zone, rules, year + 1):
        for rule in rules:
            kind = "DAYLIGHT" if rule.daylight else "STANDARD"
            # RFC 5545 wants DTSTART to be the rule's first occurrence.
            start = dt.datetime.combine(rule.day_in(1970), rule.wall_time)
            byday = f"{rule.nth}{_WEEKDAYS[rule.weekday]}"
            lines += [
                f"BEGIN:{kind}",
                f"TZOFFSETFROM:{_offset(rule.offset_from)}",
                f"TZOFFSETTO:{_offset(rule.offset_to)}",
                f"TZNAME:{escape_text(rule.name)}",
                f"DTSTART:{start.strftime('%Y%m%dT%H%M%S')}",
                f"RRULE:FREQ=YEARLY;BYMONTH={rule.month};BYDAY={byday}",
                f"END:{kind}",
            ]
    else:
        return _rdate_vtimezone(tzid, year)
    lines.append("END:VTIMEZONE")
    return join_lines(lines)


def _rdate_vtimezone(tzid: str, year: int) -> str:
    from icalendar import Timezone

    block = Timezone.from_tzid(
        tzid, first_date=dt.date(year - 30, 1, 1), last_date=dt.date(year + 30, 1, 1)
    )
    return block.to_ical().decode()
