"""A rule edit leaves a correctly booked late visit alone (issue 19, D4).

The post-operative control of a procedure on 1 November 2026 had its window
from 8 to 16 November; "now" is 25 November, so it was booked late, for
Friday 27 November, as the README allows. Widening the rule's window by one
day moves the window, but the slot was late before and stays late: no
"Needs rebooking" in the preview, on the visit or on the desk's list.
"""

from __future__ import annotations

import datetime as dt

import pytest

from followup import services
from followup.models import FollowUpRule, Visit
from followup.models.worklist import Bucket
from tests.followup.world import FRIDAY_9, NOW, book, postop

pytestmark = pytest.mark.django_db
TODAY = NOW.date()


def late_booking() -> Visit:
    visit = postop(surgery_date=dt.date(2026, 11, 1))
    assert visit.window_end == dt.date(2026, 11, 16)
    booked = book(visit, FRIDAY_9)
    assert booked.late_by_days == 11
    return booked


def edit_postop(**fields: int) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")
    for name, value in fields.items():
        setattr(rule, name, value + getattr(rule, name))
    rule.save()


def test_widening_the_window_keeps_a_late_booking_unflagged() -> None:
    visit = late_booking()
    edit_postop(window_days_after=1)

    preview = services.preview_replan(today=TODAY)
    services.replan_all(today=TODAY)

    assert preview.counts == {"moved": 1}
    visit.refresh_from_db()
    assert (visit.window_end, visit.needs_rebooking) == (dt.date(2026, 11, 17), False)
    assert not Visit.objects.in_bucket(Bucket.REBOOKING, today=TODAY, sort="window")
    assert visit.events.latest("pk").action == "window_moved"


def test_a_window_closing_earlier_flags_the_late_booking_for_the_desk() -> None:
    visit = late_booking()
    edit_postop(window_days_after=-1)

    services.replan_all(today=TODAY)

    visit.refresh_from_db()
    assert visit.needs_rebooking
    assert list(
        Visit.objects.in_bucket(Bucket.REBOOKING, today=TODAY, sort="window")
    ) == [visit]
