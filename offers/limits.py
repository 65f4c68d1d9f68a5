"""The offers' settings, read when used (never at import) so that tests can
change them: how far ahead a freed slot must be, how many patients are
offered it at a time, and how long an offer stays open."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

# A patient is offered at most one slot in this long.
ONE_A_DAY = dt.timedelta(hours=24)


def min_lead() -> dt.timedelta:
    """`OFFER_MIN_LEAD_HOURS` (24): a slot nearer than this is not offered."""
    return dt.timedelta(hours=int(getattr(settings, "OFFER_MIN_LEAD_HOURS", 24)))


def batch_size() -> int:
    """`OFFER_BATCH` (3): patients offered a slot at a time."""
    return max(1, int(getattr(settings, "OFFER_BATCH", 3)))


def hold() -> dt.timedelta:
    """`OFFER_HOLD_MINUTES` (120): how long an offer stays open once sent."""
    return dt.timedelta(minutes=int(getattr(settings, "OFFER_HOLD_MINUTES", 120)))


def far_enough(start: dt.datetime, now: dt.datetime) -> bool:
    """Whether a slot starting at `start` may still be offered at `now`."""
    return start - now >= min_lead()
