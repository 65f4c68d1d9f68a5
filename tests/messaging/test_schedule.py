"""When messages are due and when quiet hours hold, on the clinic's wall clock
(Madrid), across a daylight-saving change. No database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings as SettingsWrapper

from followup.models import Visit, VisitStatus
from messaging import schedule
from messaging.models import Kind, MessageTemplate
from tests.followup.world import madrid


def test_a_reminder_keeps_the_visits_time_of_day_across_the_spring_change() -> None:
    # Clocks go forward on Sunday 28 March 2027 at 02:00 in Madrid.
    visit = Visit(status=VisitStatus.BOOKED, start=madrid(2027, 3, 30, 9))
    template = MessageTemplate(kind=Kind.REMINDER, offset_days=-2)

    due = schedule.due_at(template, visit)

    assert due == madrid(2027, 3, 28, 9)
    assert due is not None and due.utcoffset() == dt.timedelta(hours=2)


def test_a_visit_in_another_state_calls_for_no_reminder() -> None:
    visit = Visit(status=VisitStatus.TO_BOOK, window_start=dt.date(2027, 3, 1))
    template = MessageTemplate(kind=Kind.REMINDER, offset_days=-2)

    assert schedule.due_at(template, visit) is None


@pytest.mark.parametrize(
    ("moment", "quiet", "morning"),
    [
        (madrid(2026, 11, 25, 19, 59), False, None),
        (madrid(2026, 11, 25, 20, 0), True, madrid(2026, 11, 26, 9)),
        (madrid(2026, 11, 26, 3, 0), True, madrid(2026, 11, 26, 9)),
        (madrid(2026, 11, 26, 9, 0), False, None),
        # The night the clocks go back (31 Oct 2027, 03:00 -> 02:00).
        (madrid(2027, 10, 30, 23, 0), True, madrid(2027, 10, 31, 9)),
    ],
)
def test_quiet_hours_over_midnight(
    settings: SettingsWrapper,
    moment: dt.datetime,
    quiet: bool,
    morning: dt.datetime | None,
) -> None:
    settings.MESSAGE_QUIET_HOURS = "20:00-09:00"
    hours = schedule.quiet_hours()

    assert hours is not None and hours.holds(moment) is quiet
    if morning is not None:
        assert hours.next_morning(moment) == morning


def test_quiet_hours_within_a_day(settings: SettingsWrapper) -> None:
    settings.MESSAGE_QUIET_HOURS = "13:00-15:30"
    hours = schedule.quiet_hours()

    assert hours is not None
    assert not hours.holds(madrid(2026, 11, 25, 12, 59))
    assert hours.holds(madrid(2026, 11, 25, 14))
    assert hours.next_morning(madrid(2026, 11, 25, 14)) == madrid(2026, 11, 25, 15, 30)


@pytest.mark.parametrize("value", ["20:00", "late-early", "09:00-09:00"])
def test_unreadable_quiet_hours_name_the_setting(
    settings: SettingsWrapper, value: str
) -> None:
    settings.MESSAGE_QUIET_HOURS = value

    with pytest.raises(ImproperlyConfigured, match="MESSAGE_QUIET_HOURS"):
        schedule.quiet_hours()


def test_empty_quiet_hours_are_none(settings: SettingsWrapper) -> None:
    settings.MESSAGE_QUIET_HOURS = ""

    assert schedule.quiet_hours() is None
