"""Table-driven tests of the pure planning rules (no Django, no database)."""

import dataclasses
import datetime as dt
from typing import Any

import pytest

from followup.rules import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    KIND_ENDOSCOPIC,
    KIND_STEM_CELL,
    NO_SHOW,
    TO_BOOK,
    Action,
    ExistingVisit,
    MilestoneSpec,
    PlannedVisit,
    Procedure,
    RuleSpec,
    Unit,
    add_months,
    add_offset,
    diff,
    horizon_for,
    milestones,
    plan,
)

D = dt.date
BOTH_KINDS = frozenset({KIND_ENDOSCOPIC, KIND_STEM_CELL})
STEM_CELL_ONLY = frozenset({KIND_STEM_CELL})

# The default protocol as SPEC.md section 2 gives it. The data migration holds
# its own copy; a later test compares the two.
DEFAULT_RULES = (
    RuleSpec(
        code="postop_control",
        kinds=BOTH_KINDS,
        offset_amount=10,
        offset_unit=Unit.DAY,
        window_days_before=3,
        window_days_after=5,
        duration_minutes=20,
    ),
    RuleSpec(
        code="one_month_control",
        kinds=BOTH_KINDS,
        offset_amount=1,
        offset_unit=Unit.MONTH,
        window_days_before=7,
        window_days_after=7,
        duration_minutes=20,
    ),
    RuleSpec(
        code="annual_mri_review",
        kinds=STEM_CELL_ONLY,
        offset_amount=1,
        offset_unit=Unit.YEAR,
        window_days_before=30,
        window_days_after=30,
        duration_minutes=30,
        requires_mri=True,
        recurring=True,
    ),
)

DEFAULT_MILESTONES = (
    MilestoneSpec(
        "daily_activity", "daily activity recovered", BOTH_KINDS, 7, Unit.DAY
    ),
    MilestoneSpec("sports", "sports may be resumed", BOTH_KINDS, 6 * 7, Unit.DAY),
    MilestoneSpec(
        "intense_effort", "intense physical effort allowed", BOTH_KINDS, 3, Unit.MONTH
    ),
)


def by_key(visits):
    return {v.key: v for v in visits}


def existing_from(planned: PlannedVisit, visit_id: int, **fields) -> ExistingVisit:
    """An existing visit holding exactly the dates of `planned`."""
    visit = ExistingVisit(
        id=visit_id,
        rule_code=planned.rule_code,
        occurrence=planned.occurrence,
        status=TO_BOOK,
        due_date=planned.due_date,
        window_start=planned.window_start,
        window_end=planned.window_end,
    )
    return dataclasses.replace(visit, **fields)


def existing_plan(proc: Procedure, horizon: dt.date, **statuses) -> list[ExistingVisit]:
    """The visits generation would have stored for `proc`, ids from 1.

    `statuses` maps "<rule>_<occurrence>" to a dict of fields to override.
    """
    visits = []
    for visit_id, planned in enumerate(plan(proc, DEFAULT_RULES, horizon=horizon), 1):
        fields = statuses.get(f"{planned.rule_code}_{planned.occurrence}", {})
        visits.append(existing_from(planned, visit_id, **fields))
    return visits


# --- calendar arithmetic --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2025, 1, 30), 1, D(2025, 2, 28)),
        (D(2024, 1, 30), 1, D(2024, 2, 29)),
        (D(2025, 3, 31), 1, D(2025, 4, 30)),
        (D(2025, 12, 31), 1, D(2026, 1, 31)),
        (D(2025, 1, 15), 0, D(2025, 1, 15)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2025, 1, 31), -1, D(2024, 12, 31)),
        (D(2025, 1, 15), -13, D(2023, 12, 15)),
        (D(2025, 2, 28), -12, D(2024, 2, 28)),
        (D(2025, 5, 31), -3, D(2025, 2, 28)),
    ],
)
def test_add_months_is_calendar_arithmetic_clamped_to_month_end(
    start, months, expected
):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        (D(2025, 1, 31), 10, Unit.DAY, D(2025, 2, 10)),
        (D(2025, 1, 31), 1, Unit.MONTH, D(2025, 2, 28)),
        (D(2024, 2, 29), 1, Unit.YEAR, D(2025, 2, 28)),
        (D(2024, 2, 29), 1, "year", D(2025, 2, 28)),
        (D(2024, 3, 1), -1, Unit.DAY, D(2024, 2, 29)),
        (D(2025, 3, 31), -1, "month", D(2025, 2, 28)),
    ],
)
def test_add_offset_dispatches_on_unit(start, amount, unit, expected):
    assert add_offset(start, amount, unit) == expected


def test_horizon_is_today_plus_whole_years_clamped():
    assert horizon_for(D(2024, 2, 29), 2) == D(2026, 2, 28)
    assert horizon_for(D(2025, 6, 1), 0) == D(2025, 6, 1)


# --- the default rules ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "surgery", "rule_code", "due", "window", "minutes", "mri"),
    [
        (
            KIND_ENDOSCOPIC,
            D(2025, 1, 31),
            "postop_control",
            D(2025, 2, 10),
            (D(2025, 2, 7), D(2025, 2, 15)),
            20,
            False,
        ),
        (
            KIND_STEM_CELL,
            D(2025, 12, 28),
            "postop_control",
            D(2026, 1, 7),
            (D(2026, 1, 4), D(2026, 1, 12)),
            20,
            False,
        ),
        (
            KIND_ENDOSCOPIC,
            D(2025, 1, 31),
            "one_month_control",
            D(2025, 2, 28),
            (D(2025, 2, 21), D(2025, 3, 7)),
            20,
            False,
        ),
        (
            KIND_STEM_CELL,
            D(2024, 1, 31),
            "one_month_control",
            D(2024, 2, 29),
            (D(2024, 2, 22), D(2024, 3, 7)),
            20,
            False,
        ),
        (
            KIND_STEM_CELL,
            D(2025, 3, 31),
            "one_month_control",
            D(2025, 4, 30),
            (D(2025, 4, 23), D(2025, 5, 7)),
            20,
            False,
        ),
        (
            KIND_STEM_CELL,
            D(2024, 2, 29),
            "annual_mri_review",
            D(2025, 2, 28),
            (D(2025, 1, 29), D(2025, 3, 30)),
            30,
            True,
        ),
    ],
)
def test_default_rule_due_date_window_and_length_follow_the_spec(
    kind, surgery, rule_code, due, window, minutes, mri
):
    proc = Procedure(surgery_date=surgery, kind=kind)
    planned = by_key(plan(proc, DEFAULT_RULES, horizon=add_months(surgery, 12)))

    visit = planned[(rule_code, 1)]
    assert visit.due_date == due
    assert (visit.window_start, visit.window_end) == window
    assert visit.duration_minutes == minutes
    assert visit.requires_mri is mri


def test_postop_window_is_surgery_plus_7_to_15_days():
    surgery = D(2025, 6, 1)
    postop = DEFAULT_RULES[0]
    due = postop.due_date(surgery, 1)
    assert due == surgery + dt.timedelta(days=10)
    assert postop.window(due) == (
        surgery + dt.timedelta(days=7),
        surgery + dt.timedelta(days=15),
    )


@pytest.mark.parametrize(
    ("occurrence", "due"),
    [
        (1, D(2025, 2, 28)),
        (2, D(2026, 2, 28)),
        (3, D(2027, 2, 28)),
        (4, D(2028, 2, 29)),
    ],
)
def test_annual_occurrence_is_counted_from_surgery_not_chained(occurrence, due):
    annual = DEFAULT_RULES[2]
    assert annual.due_date(D(2024, 2, 29), occurrence) == due


# --- plans ----------------------------------------------------------------------


def test_plain_endoscopic_plan_has_exactly_the_two_controls():
    proc = Procedure(surgery_date=D(2025, 3, 10), kind=KIND_ENDOSCOPIC)

    visits = plan(proc, DEFAULT_RULES, horizon=D(2040, 1, 1))

    assert [v.key for v in visits] == [
        ("postop_control", 1),
        ("one_month_control", 1),
    ]


def test_stem_cell_plan_has_controls_and_annual_reviews_up_to_horizon():
    proc = Procedure(surgery_date=D(2024, 2, 29), kind=KIND_STEM_CELL)

    visits = plan(proc, DEFAULT_RULES, horizon=D(2028, 2, 29))

    assert [(v.key, v.due_date) for v in visits] == [
        (("postop_control", 1), D(2024, 3, 10)),
        (("one_month_control", 1), D(2024, 3, 29)),
        (("annual_mri_review", 1), D(2025, 2, 28)),
        (("annual_mri_review", 2), D(2026, 2, 28)),
        (("annual_mri_review", 3), D(2027, 2, 28)),
        (("annual_mri_review", 4), D(2028, 2, 29)),
    ]


@pytest.mark.parametrize(
    ("horizon", "annual_occurrences"),
    [
        (D(2025, 2, 27), []),
        (D(2025, 2, 28), [1]),
        (D(2027, 2, 27), [1, 2]),
        (D(2028, 2, 28), [1, 2, 3]),
        (D(2028, 2, 29), [1, 2, 3, 4]),
    ],
)
def test_annual_reviews_are_planned_up_to_and_including_horizon(
    horizon, annual_occurrences
):
    proc = Procedure(surgery_date=D(2024, 2, 29), kind=KIND_STEM_CELL)

    visits = plan(proc, DEFAULT_RULES, horizon=horizon)

    assert [
        v.occurrence for v in visits if v.rule_code == "annual_mri_review"
    ] == annual_occurrences


@pytest.mark.parametrize(
    ("ended_on", "annual_occurrences"),
    [
        (None, [1, 2, 3, 4, 5]),
        (D(2024, 3, 1), []),
        (D(2025, 3, 9), []),
        (D(2025, 3, 10), [1]),
        (D(2027, 6, 1), [1, 2, 3]),
    ],
)
def test_ending_the_programme_stops_annual_reviews_after_that_day(
    ended_on, annual_occurrences
):
    proc = Procedure(
        surgery_date=D(2024, 3, 10),
        kind=KIND_STEM_CELL,
        annual_reviews_ended_on=ended_on,
    )

    visits = plan(proc, DEFAULT_RULES, horizon=D(2029, 3, 10))

    assert [
        v.occurrence for v in visits if v.rule_code == "annual_mri_review"
    ] == annual_occurrences
    assert {("postop_control", 1), ("one_month_control", 1)} <= {v.key for v in visits}


def test_plan_is_sorted_by_due_date_whatever_the_rule_order():
    proc = Procedure(surgery_date=D(2024, 1, 31), kind=KIND_STEM_CELL)

    visits = plan(proc, reversed(DEFAULT_RULES), horizon=D(2027, 1, 1))

    assert visits == plan(proc, DEFAULT_RULES, horizon=D(2027, 1, 1))
    assert [v.due_date for v in visits] == sorted(v.due_date for v in visits)


# --- diffs ----------------------------------------------------------------------

SURGERY = D(2024, 3, 10)
# Two annual reviews are due by then: 10 Mar 2025 and 10 Mar 2026.
HORIZON = D(2026, 3, 10)
# Old postop window 17..25 Mar; moved to 5 Mar, it becomes 12..20 Mar.
MOVED_SURGERY = D(2024, 3, 5)


def test_new_procedure_creates_every_planned_visit():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)

    changes = diff(proc, DEFAULT_RULES, [], horizon=HORIZON)

    assert {c.action for c in changes} == {Action.CREATE}
    assert all(c.visit_id is None for c in changes)
    assert [c.planned for c in changes] == plan(proc, DEFAULT_RULES, horizon=HORIZON)


def test_unchanged_procedure_has_an_empty_diff():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(
        proc,
        HORIZON,
        postop_control_1={"status": BOOKED, "slot_date": D(2024, 3, 20)},
        one_month_control_1={"status": COMPLETED},
        annual_mri_review_1={"status": NO_SHOW},
    )

    assert diff(proc, DEFAULT_RULES, existing, horizon=HORIZON) == []


def test_moving_surgery_date_moves_unbooked_visits():
    old = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(old, HORIZON, one_month_control_1={"status": NO_SHOW})
    new = Procedure(surgery_date=MOVED_SURGERY, kind=KIND_STEM_CELL)

    changes = diff(new, DEFAULT_RULES, existing, horizon=HORIZON)

    assert [c.action for c in changes] == [Action.MOVE] * 4
    assert {c.visit_id for c in changes} == {v.id for v in existing}
    moved = sorted((c.target() for c in changes), key=lambda p: p.due_date)
    assert moved == plan(new, DEFAULT_RULES, horizon=HORIZON)


@pytest.mark.parametrize(
    ("slot_date", "needs_rebooking"),
    [
        (D(2024, 3, 17), False),
        (D(2024, 3, 20), False),
        (D(2024, 3, 21), True),
        (D(2024, 3, 25), True),
    ],
)
def test_moving_surgery_date_retimes_a_booked_visit_and_flags_a_slot_outside(
    slot_date, needs_rebooking
):
    old = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(
        old, HORIZON, postop_control_1={"status": BOOKED, "slot_date": slot_date}
    )
    new = Procedure(surgery_date=MOVED_SURGERY, kind=KIND_ENDOSCOPIC)

    changes = diff(new, DEFAULT_RULES, existing, horizon=HORIZON)

    (retime,) = [c for c in changes if c.visit_id == existing[0].id]
    assert retime.action is Action.RETIME
    assert retime.needs_rebooking is needs_rebooking
    assert retime.planned is not None
    assert retime.planned.due_date == D(2024, 3, 15)
    assert (retime.planned.window_start, retime.planned.window_end) == (
        D(2024, 3, 12),
        D(2024, 3, 20),
    )


def test_correction_that_brings_a_flagged_slot_back_inside_clears_the_flag():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(
        proc,
        HORIZON,
        postop_control_1={
            "status": BOOKED,
            "slot_date": D(2024, 3, 20),
            "needs_rebooking": True,
        },
    )

    changes = diff(proc, DEFAULT_RULES, existing, horizon=HORIZON)

    assert [(c.action, c.visit_id, c.needs_rebooking) for c in changes] == [
        (Action.RETIME, existing[0].id, False)
    ]


@pytest.mark.parametrize("status", [COMPLETED, CHECKED_IN])
def test_completed_and_checked_in_visits_never_change(status):
    old = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    history = {"status": status, "slot_date": D(2024, 3, 18)}
    existing = existing_plan(
        old,
        HORIZON,
        postop_control_1=history,
        one_month_control_1=history,
        annual_mri_review_1=history,
        annual_mri_review_2=history,
    )

    for new in (
        Procedure(surgery_date=MOVED_SURGERY, kind=KIND_STEM_CELL),
        Procedure(surgery_date=MOVED_SURGERY, kind=KIND_ENDOSCOPIC),
        Procedure(
            surgery_date=SURGERY,
            kind=KIND_STEM_CELL,
            annual_reviews_ended_on=SURGERY,
        ),
    ):
        assert diff(new, DEFAULT_RULES, existing, horizon=HORIZON) == []


def test_changing_kind_to_plain_cancels_open_annual_reviews_only():
    old = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(
        old,
        D(2028, 3, 10),
        annual_mri_review_1={"status": COMPLETED},
        annual_mri_review_2={"status": BOOKED, "slot_date": D(2026, 3, 10)},
        annual_mri_review_3={"status": NO_SHOW},
    )
    ids = {v.key: v.id for v in existing}
    new = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)

    changes = diff(new, DEFAULT_RULES, existing, horizon=HORIZON)

    assert {(c.action, c.visit_id) for c in changes} == {
        (Action.CANCEL, ids[("annual_mri_review", 2)]),
        (Action.CANCEL, ids[("annual_mri_review", 3)]),
        (Action.CANCEL, ids[("annual_mri_review", 4)]),
    }


def test_changing_kind_to_stem_cell_creates_annual_reviews():
    old = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(old, HORIZON)
    new = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)

    changes = diff(new, DEFAULT_RULES, existing, horizon=HORIZON)

    assert [(c.action, c.planned.key) for c in changes if c.planned] == [
        (Action.CREATE, ("annual_mri_review", 1)),
        (Action.CREATE, ("annual_mri_review", 2)),
    ]


def test_visit_cancelled_by_a_replan_is_reopened_when_planned_again():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(
        proc,
        HORIZON,
        annual_mri_review_1={"status": CANCELLED, "cancelled_by_plan": True},
    )
    reopened_id = existing[2].id

    changes = diff(proc, DEFAULT_RULES, existing, horizon=HORIZON)

    assert len(changes) == 1
    (reopen,) = changes
    assert (reopen.action, reopen.visit_id) == (Action.REOPEN, reopened_id)
    assert reopen.planned == plan(proc, DEFAULT_RULES, horizon=HORIZON)[2]


def test_visit_cancelled_by_a_person_is_left_alone_and_not_recreated():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(
        proc,
        HORIZON,
        annual_mri_review_1={"status": CANCELLED, "cancelled_by_plan": False},
    )
    moved = Procedure(surgery_date=MOVED_SURGERY, kind=KIND_STEM_CELL)

    changes = diff(moved, DEFAULT_RULES, existing, horizon=HORIZON)

    assert existing[2].id not in {c.visit_id for c in changes}
    assert Action.CREATE not in {c.action for c in changes}
    assert Action.REOPEN not in {c.action for c in changes}


def test_annual_review_pushed_past_the_horizon_by_a_correction_is_moved_not_cancelled():
    old = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(old, HORIZON)
    second_review = by_key(existing)[("annual_mri_review", 2)]
    later = Procedure(surgery_date=D(2024, 3, 20), kind=KIND_STEM_CELL)

    changes = diff(later, DEFAULT_RULES, existing, horizon=HORIZON)

    (change,) = [c for c in changes if c.visit_id == second_review.id]
    assert change.action is Action.MOVE
    assert change.planned is not None
    assert change.planned.due_date == D(2026, 3, 20)
    assert change.planned.due_date > HORIZON
    assert Action.CANCEL not in {c.action for c in changes}


def test_ending_the_programme_cancels_open_reviews_after_the_end_date():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_STEM_CELL)
    existing = existing_plan(
        proc, D(2027, 3, 10), annual_mri_review_3={"status": COMPLETED}
    )
    ids = {v.key: v.id for v in existing}
    ended = Procedure(
        surgery_date=SURGERY,
        kind=KIND_STEM_CELL,
        annual_reviews_ended_on=D(2025, 6, 1),
    )

    changes = diff(ended, DEFAULT_RULES, existing, horizon=HORIZON)

    assert [(c.action, c.visit_id) for c in changes] == [
        (Action.CANCEL, ids[("annual_mri_review", 2)]),
    ]


def test_visit_of_a_rule_no_longer_in_the_protocol_is_cancelled_when_open():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(proc, HORIZON)

    changes = diff(proc, DEFAULT_RULES[1:], existing, horizon=HORIZON)

    assert [(c.action, c.visit_id) for c in changes] == [
        (Action.CANCEL, existing[0].id)
    ]


# --- milestones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("surgery", "expected"),
    [
        (
            D(2024, 11, 30),
            [
                ("daily_activity", D(2024, 12, 7)),
                ("sports", D(2025, 1, 11)),
                ("intense_effort", D(2025, 2, 28)),
            ],
        ),
        (
            D(2023, 11, 30),
            [
                ("daily_activity", D(2023, 12, 7)),
                ("sports", D(2024, 1, 11)),
                ("intense_effort", D(2024, 2, 29)),
            ],
        ),
        (
            D(2025, 3, 1),
            [
                ("daily_activity", D(2025, 3, 8)),
                ("sports", D(2025, 4, 12)),
                ("intense_effort", D(2025, 6, 1)),
            ],
        ),
    ],
)
def test_milestones_fall_on_day_7_week_6_and_month_3(surgery, expected):
    for kind in (KIND_ENDOSCOPIC, KIND_STEM_CELL):
        proc = Procedure(surgery_date=surgery, kind=kind)

        dated = milestones(proc, reversed(DEFAULT_MILESTONES))

        assert [(spec.code, date) for spec, date in dated] == expected


def test_milestones_skip_specs_of_another_kind():
    stem_only = MilestoneSpec("stem_only", "stem only", STEM_CELL_ONLY, 1, Unit.DAY)
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)

    assert milestones(proc, [stem_only]) == []


# --- rule validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"window_days_before": -1},
        {"window_days_after": -1},
        {"duration_minutes": 0},
        {"duration_minutes": -20},
        {"recurring": True, "offset_amount": 0},
        {"recurring": True, "offset_amount": -1},
    ],
)
def test_rule_spec_refuses_impossible_rows(fields):
    values: dict[str, Any] = {
        "code": "broken",
        "kinds": BOTH_KINDS,
        "offset_amount": 10,
        "offset_unit": Unit.DAY,
        "window_days_before": 3,
        "window_days_after": 5,
        "duration_minutes": 20,
    }
    values.update(fields)

    with pytest.raises(ValueError, match="broken"):
        RuleSpec(**values)


def test_rule_spec_accepts_a_window_of_a_single_day():
    rule = RuleSpec("exact", BOTH_KINDS, 10, Unit.DAY, 0, 0, 1)

    assert rule.window(D(2025, 1, 1)) == (D(2025, 1, 1), D(2025, 1, 1))


def test_a_slot_chosen_after_an_unmoved_window_is_not_flagged_by_a_replan():
    """A late booking (or an override) lies outside its window on purpose."""
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(
        proc,
        HORIZON,
        postop_control_1={"status": BOOKED, "slot_date": D(2024, 4, 20)},
    )

    assert diff(proc, DEFAULT_RULES, existing, horizon=HORIZON) == []


def _postop_rule(**fields: Any) -> tuple[RuleSpec, ...]:
    return (dataclasses.replace(DEFAULT_RULES[0], **fields), *DEFAULT_RULES[1:])


# The booked post-operative control's window is 17-25 March 2024.
@pytest.mark.parametrize(
    ("slot_date", "edit", "needs_rebooking"),
    [
        # A late booking (after the window closed, as the README allows)
        # stays late when the window widens by a day: not flagged (D4).
        (D(2024, 3, 28), {"window_days_after": 6}, False),
        # ...and a window widened to hold it takes it back inside.
        (D(2024, 3, 28), {"window_days_after": 8}, False),
        # A window closing earlier leaves it later than it was: flagged.
        (D(2024, 3, 28), {"window_days_after": 4}, True),
        # A slot inside the old window and outside the new one: flagged.
        (D(2024, 3, 25), {"window_days_after": 4}, True),
        (D(2024, 3, 18), {"window_days_before": 1}, True),
        # Inside before and after: not flagged.
        (D(2024, 3, 20), {"window_days_after": 4}, False),
        # A slot booked early by override stays as a person chose it.
        (D(2024, 3, 15), {"window_days_after": 6}, False),
        # A late slot the new window now opens after: flagged.
        (D(2024, 3, 28), {"offset_amount": 25}, True),
    ],
)
def test_a_rule_edit_flags_a_booking_only_when_it_moves_the_window_away_from_the_slot(
    slot_date, edit, needs_rebooking
):
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(
        proc, HORIZON, postop_control_1={"status": BOOKED, "slot_date": slot_date}
    )

    changes = diff(proc, _postop_rule(**edit), existing, horizon=HORIZON)

    (retime,) = [c for c in changes if c.visit_id == existing[0].id]
    assert (retime.action, retime.needs_rebooking) == (Action.RETIME, needs_rebooking)


def test_a_flag_stays_while_its_slot_is_still_outside_the_new_window():
    proc = Procedure(surgery_date=SURGERY, kind=KIND_ENDOSCOPIC)
    existing = existing_plan(
        proc,
        HORIZON,
        postop_control_1={
            "status": BOOKED,
            "slot_date": D(2024, 3, 28),
            "needs_rebooking": True,
        },
    )

    changes = diff(proc, _postop_rule(window_days_after=6), existing, horizon=HORIZON)

    assert [(c.action, c.needs_rebooking) for c in changes] == [(Action.RETIME, True)]
