"""Hypothesis properties of the pure planning rules over a wide range of dates."""

import calendar
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from followup.rules import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    KIND_STEM_CELL,
    KINDS,
    NO_SHOW,
    TO_BOOK,
    ExistingVisit,
    Procedure,
    Unit,
    add_months,
    add_offset,
    diff,
    horizon_for,
    plan,
)
from tests.followup.plan_model import apply
from tests.followup.test_rules import DEFAULT_RULES

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

surgery_dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
kinds = st.sampled_from(KINDS)


@st.composite
def procedures(draw, surgery_date=None):
    surgery = draw(surgery_dates) if surgery_date is None else surgery_date
    ended_on = draw(
        st.none()
        | st.integers(min_value=-30, max_value=35 * 366).map(
            lambda days: surgery + dt.timedelta(days=days)
        )
    )
    return Procedure(
        surgery_date=surgery, kind=draw(kinds), annual_reviews_ended_on=ended_on
    )


@st.composite
def horizons(draw, surgery: dt.date):
    """Up to 30 years after surgery, directly or as `horizon_for(today, years)`."""
    if draw(st.booleans()):
        return surgery + dt.timedelta(days=draw(st.integers(0, 30 * 366)))
    today = surgery + dt.timedelta(days=draw(st.integers(0, 25 * 366)))
    return horizon_for(today, draw(st.integers(0, 5)))


@st.composite
def procedures_with_horizon(draw):
    proc = draw(procedures())
    return proc, draw(horizons(proc.surgery_date))


@st.composite
def lived_in(draw, visits: list[ExistingVisit]) -> list[ExistingVisit]:
    """`visits` after some time at the clinic: booked, done, cancelled..."""
    result = []
    for visit in visits:
        status = draw(
            st.sampled_from(
                [TO_BOOK, BOOKED, CHECKED_IN, COMPLETED, NO_SHOW, CANCELLED]
            )
        )
        fields: dict = {"status": status}
        if status in {BOOKED, CHECKED_IN, COMPLETED}:
            slot = visit.window_start + dt.timedelta(days=draw(st.integers(-20, 80)))
            fields["slot_date"] = slot
            if status == BOOKED:
                fields["needs_rebooking"] = draw(st.booleans())
        if status == CANCELLED:
            fields["cancelled_by_plan"] = draw(st.booleans())
        result.append(ExistingVisit(**{**visit.__dict__, **fields}))
    return result


def annual_due(surgery: dt.date, years: int) -> dt.date:
    """Surgery + whole years, clamped, computed without `followup.rules`."""
    year = surgery.year + years
    day = min(surgery.day, calendar.monthrange(year, surgery.month)[1])
    return dt.date(year, surgery.month, day)


def generated(proc: Procedure, horizon: dt.date) -> list[ExistingVisit]:
    return apply([], diff(proc, DEFAULT_RULES, [], horizon=horizon), next_id=1)


def replan(proc, existing, horizon):
    """Diff, apply, and return the visits and the diff that follows."""
    next_id = max((v.id for v in existing), default=0) + 1
    changes = diff(proc, DEFAULT_RULES, existing, horizon=horizon)
    after = apply(existing, changes, next_id=next_id)
    return after, diff(proc, DEFAULT_RULES, after, horizon=horizon)


@PROPERTY_SETTINGS
@given(procedures_with_horizon())
def test_every_planned_window_holds_its_due_date(scenario):
    proc, horizon = scenario

    for visit in plan(proc, DEFAULT_RULES, horizon=horizon):
        assert visit.window_start <= visit.due_date <= visit.window_end
        assert visit.due_date >= proc.surgery_date
        assert visit.duration_minutes > 0


@PROPERTY_SETTINGS
@given(procedures_with_horizon())
def test_plan_is_deterministic_and_has_one_visit_per_rule_occurrence(scenario):
    proc, horizon = scenario

    first = plan(proc, DEFAULT_RULES, horizon=horizon)
    second = plan(proc, DEFAULT_RULES, horizon=horizon)

    assert first == second
    assert len({v.key for v in first}) == len(first)
    assert [v.due_date for v in first] == sorted(v.due_date for v in first)


@PROPERTY_SETTINGS
@given(procedures_with_horizon())
def test_replanning_a_new_procedure_twice_changes_nothing(scenario):
    proc, horizon = scenario

    after, second_diff = replan(proc, [], horizon)

    assert second_diff == []
    assert sorted(v.key for v in after) == sorted(
        v.key for v in plan(proc, DEFAULT_RULES, horizon=horizon)
    )


@PROPERTY_SETTINGS
@given(st.data())
def test_replanning_after_a_correction_is_idempotent_and_keeps_history(data):
    before, old_horizon = data.draw(procedures_with_horizon(), label="before")
    existing = data.draw(lived_in(generated(before, old_horizon)), label="existing")
    after_proc = data.draw(
        st.one_of(
            procedures(),
            procedures(surgery_date=before.surgery_date),
            st.just(before),
        ),
        label="corrected",
    )
    horizon = data.draw(horizons(after_proc.surgery_date), label="horizon")

    after, second_diff = replan(after_proc, existing, horizon)

    assert second_diff == []
    assert len({v.key for v in after}) == len(after)
    by_id = {v.id: v for v in after}
    for old in existing:
        new = by_id[old.id]
        person_cancelled = old.status == CANCELLED and not old.cancelled_by_plan
        if old.status in {COMPLETED, CHECKED_IN} or person_cancelled:
            assert new == old
        if old.status == BOOKED:
            assert new.slot_date == old.slot_date
            if new.status == BOOKED:
                inside = new.window_start <= new.slot_date <= new.window_end
                moved = (new.window_start, new.window_end) != (
                    old.window_start,
                    old.window_end,
                )
                was_inside = old.window_start <= old.slot_date <= old.window_end
                stays_late = (
                    old.window_end < old.slot_date
                    and new.window_end < new.slot_date
                    and old.window_end <= new.window_end
                )
                if inside:
                    assert not new.needs_rebooking
                elif moved and was_inside:
                    assert new.needs_rebooking
                elif moved and stays_late:
                    # A late booking stays late, unflagged, unless the new
                    # window makes it later still.
                    assert new.needs_rebooking is old.needs_rebooking
                if not moved:
                    # A slot a person chose outside an unmoved window (a late
                    # booking, an override) is never flagged by a re-plan.
                    assert new.needs_rebooking <= (old.needs_rebooking and not inside)
    keys_after = {v.key for v in after}
    for planned in plan(after_proc, DEFAULT_RULES, horizon=horizon):
        assert planned.key in keys_after


@PROPERTY_SETTINGS
@given(procedures_with_horizon())
def test_horizon_never_leaves_a_due_annual_review_out(scenario):
    proc, horizon = scenario
    last = horizon
    if proc.annual_reviews_ended_on is not None:
        last = min(last, proc.annual_reviews_ended_on)

    planned = {
        v.occurrence: v.due_date
        for v in plan(proc, DEFAULT_RULES, horizon=horizon)
        if v.rule_code == "annual_mri_review"
    }

    if proc.kind != KIND_STEM_CELL:
        assert planned == {}
        return
    expected = {}
    years = 1
    while annual_due(proc.surgery_date, years) <= last:
        expected[years] = annual_due(proc.surgery_date, years)
        years += 1
    assert planned == expected
    assert all(due <= horizon for due in planned.values())


@PROPERTY_SETTINGS
@given(surgery_dates, st.integers(min_value=-1000, max_value=1000))
def test_add_months_clamps_to_the_target_month(start, months):
    result = add_months(start, months)

    assert (result.year - start.year) * 12 + result.month - start.month == months
    assert result.day == min(
        start.day, calendar.monthrange(result.year, result.month)[1]
    )


@PROPERTY_SETTINGS
@given(surgery_dates, st.integers(min_value=-80, max_value=80))
def test_twelve_months_are_a_year(start, years):
    assert add_months(start, 12 * years) == add_offset(start, years, Unit.YEAR)
    assert add_months(start, 12 * years) == annual_due(start, years)


@PROPERTY_SETTINGS
@given(
    surgery_dates.filter(lambda d: d.day <= 28),
    st.integers(min_value=-500, max_value=500),
    st.integers(min_value=-500, max_value=500),
)
def test_month_steps_add_up_when_no_clamping_happens(start, first, second):
    assert add_months(add_months(start, first), second) == add_months(
        start, first + second
    )
