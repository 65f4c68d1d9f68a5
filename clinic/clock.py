"""The clinic's wall clock: its time zone (`CLINIC_TIME_ZONE`) and dates.

Due dates, windows, sessions and check-in days are the clinic's local
dates; bookings are stored in UTC. Every module reads the zone here, and the
pages and the API read "now" here (`now`, `today`), so that tests pin one
clock. Services never read it: their caller passes `now` or `today`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def clinic_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


def local(moment: dt.datetime) -> dt.datetime:
    """An aware moment on the clinic's wall clock."""
    return moment.astimezone(clinic_zone())


def local_date(moment: dt.datetime) -> dt.date:
    """The clinic's calendar date of an aware moment."""
    return local(moment).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Local midnight at the clinic as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), clinic_zone())


def now() -> dt.datetime:
    """The pages' and the API's clock; read through the module
    (`clock.now()`), so that a test's pin reaches every caller."""
    return timezone.now()


def today() -> dt.date:
    """The clinic's date now."""
    return local_date(now())
