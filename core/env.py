"""Reading settings from the environment: each helper names the variable
in its refusal, so a value that cannot be read fails at start-up, never
later (`config.settings`)."""

import datetime as dt
import os
import re
import zoneinfo

import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_prefixed(prefix: str) -> dict[str, str | bool]:
    """Every variable named `prefix` + KEY, as {KEY: value}: the settings of
    a package that takes them in one dict (ANYMAIL_POSTMARK_SERVER_TOKEN=...
    gives {"POSTMARK_SERVER_TOKEN": ...}). "true" and "false" are booleans,
    everything else a string."""
    words = {"true": True, "false": False}
    return {
        name.removeprefix(prefix): words.get(value.strip().lower(), value)
        for name, value in sorted(os.environ.items())
        if name.startswith(prefix) and name != prefix
    }


def env_email_backend(name: str, default: str) -> str:
    """Django's email backend, a dotted path. An email service's
    (django-anymail's) is imported now, so a misspelt service, or one whose
    package is missing (Amazon SES needs boto3), fails at start-up, not at
    the first message."""
    value = env_str(name, default)
    if value.startswith("anymail."):
        try:
            import_string(value)
        except ImportError as exc:  # AnymailImproperlyInstalled is one too
            raise ImproperlyConfigured(
                f"{name}={value!r} cannot be used: {exc}"
            ) from None
    return value


def hosts_matching_anything(hosts: list[str]) -> list[str]:
    """The ALLOWED_HOSTS entries that accept a Host header of anyone's: "*",
    any pattern with "*" (Django has no such patterns; whoever wrote one
    meant "any"), and a leading-dot entry naming no more than a top-level
    domain (".", ".com"), which matches every host under it."""
    return [
        host
        for host in hosts
        if "*" in host or (host.startswith(".") and "." not in host[1:])
    ]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a known time zone"
        ) from None
    return value


def env_phone_region(name: str, default: str) -> str:
    """A region phone numbers are read in when typed without their country
    code (ISO 3166 two letters, as libphonenumber knows them: ES, PT, GB)."""
    value = env_str(name, default).strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a region phone numbers are known for "
            "(two letters, like ES)"
        )
    return value


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_BLOCK = re.compile(
    r"(?P<days>[a-z,-]+)\s+(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)"
    r"(?:\s*,\s*slot\s+(?P<slot>\d+))?"
)


def _weekdays(name: str, spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
            raise ImproperlyConfigured(f"{name}: {part!r} is not a day like mon-fri")
        low = WEEKDAY_NAMES.index(first)
        high = WEEKDAY_NAMES.index(last) if last else low
        if high < low:
            raise ImproperlyConfigured(f"{name}: {part!r} runs backwards")
        days.extend(range(low, high + 1))
    return days


def env_weekly_hours(
    name: str, default: str
) -> list[tuple[int, dt.time, dt.time, int]]:
    """Weekly hours: "mon-fri 09:00-14:00, slot 10; tue 16:00-19:00, slot 10".

    Blocks are separated by ";"; days are a day, a range or a comma list
    (mon,wed,fri); the slot defaults to 10 minutes. Returns (weekday with
    Monday 0, start, end, slot minutes) rows.
    """
    raw = env_str(name, default)
    hours: list[tuple[int, dt.time, dt.time, int]] = []
    for block in filter(None, (b.strip().lower() for b in raw.split(";"))):
        match = _HOURS_BLOCK.fullmatch(block)
        if match is None:
            raise ImproperlyConfigured(
                f"{name}: {block!r} is not like 'mon-fri 09:00-14:00, slot 10'"
            )
        try:
            start = dt.time.fromisoformat(match["start"])
            end = dt.time.fromisoformat(match["end"])
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {block!r} has an invalid time"
            ) from None
        slot = int(match["slot"] or 10)
        if end <= start or slot <= 0:
            raise ImproperlyConfigured(
                f"{name}: {block!r} must end after it starts, with a slot above 0"
            )
        hours.extend((day, start, end, slot) for day in _weekdays(name, match["days"]))
    if not hours:
        raise ImproperlyConfigured(f"{name}={raw!r} gives no clinic hours")
    return hours
