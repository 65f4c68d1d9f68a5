"""Pure follow-up planning: the protocol applied to one procedure.

No Django and no clock: rules, dates and `horizon` come in as arguments,
plans and diffs go out as frozen dataclasses. `followup.services` turns a
diff into database writes.

- Calendar arithmetic clamps to the month's end: 31 Jan + 1 month is 28 Feb
  (29 in a leap year); 29 Feb + 1 year is 28 Feb.
- A rule's window is counted from its due date.
- A recurring rule (the annual MRI review) yields occurrence n = 1, 2, ...
  at n times its offset, for every due date up to the horizon, and none after
  the day the programme was ended.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from clinic import kinds

KIND_ENDOSCOPIC = kinds.ENDOSCOPIC
KIND_STEM_CELL = kinds.ENDOSCOPIC_STEM_CELL
KINDS = kinds.KINDS

# Visit statuses, as stored and as the API names them.
TO_BOOK = "to_book"
BOOKED = "booked"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
# A re-plan may move or cancel these; a visit in any other status is history.
OPEN_STATUSES = frozenset({TO_BOOK, BOOKED, NO_SHOW})
# These hold a slot that the re-plan keeps: it flags, never moves, them.
SLOTTED_STATUSES = frozenset({BOOKED})


class Unit(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def add_months(start: dt.date, months: int) -> dt.date:
    """`start` plus whole calendar months, clamped to the month's last day."""
    month_index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(start.day, last_day))


def add_offset(start: dt.date, amount: int, unit: Unit | str) -> dt.date:
    unit = Unit(unit)
    if unit is Unit.DAY:
        return start + dt.timedelta(days=amount)
    if unit is Unit.MONTH:
        return add_months(start, amount)
    return add_months(start, 12 * amount)


@dataclass(frozen=True)
class RuleSpec:
    """One row of the protocol, as planning needs it."""

    code: str
    kinds: frozenset[str]
    offset_amount: int
    offset_unit: Unit
    window_days_before: int
    window_days_after: int
    duration_minutes: int
    requires_mri: bool = False
    recurring: bool = False

    def __post_init__(self) -> None:
        if self.offset_amount < 0 and self.recurring:
            raise ValueError(f"rule {self.code}: a recurring offset must be positive")
        if self.recurring and self.offset_amount == 0:
            raise ValueError(f"rule {self.code}: a recurring offset cannot be zero")
        if self.window_days_before < 0 or self.window_days_after < 0:
            raise ValueError(f"rule {self.code}: window days cannot be negative")
        if self.duration_minutes <= 0:
            raise ValueError(f"rule {self.code}: a visit must last some minutes")

    def due_date(self, surgery_date: dt.date, occurrence: int) -> dt.date:
        # Occurrence n is counted from the surgery, never from occurrence n-1,
        # so clamping at one month end does not drift into later years.
        return add_offset(
            surgery_date, self.offset_amount * occurrence, self.offset_unit
        )

    def window(self, due: dt.date) -> tuple[dt.date, dt.date]:
        return (
            due - dt.timedelta(days=self.window_days_before),
            due + dt.timedelta(days=self.window_days_after),
        )


@dataclass(frozen=True)
class MilestoneSpec:
    code: str
    title: str
    kinds: frozenset[str]
    offset_amount: int
    offset_unit: Unit


@dataclass(frozen=True)
class PlannedVisit:
    rule_code: str
    occurrence: int
    due_date: dt.date
    window_start: dt.date
    window_end: dt.date
    duration_minutes: int
    requires_mri: bool

    @property
    def key(self) -> tuple[str, int]:
        return (self.rule_code, self.occurrence)


@dataclass(frozen=True)
class ExistingVisit:
    """What the diff needs to know of a visit already in the database."""

    id: int
    rule_code: str
    occurrence: int
    status: str
    due_date: dt.date
    window_start: dt.date
    window_end: dt.date
    # The local date of the booked slot, for visits that hold one.
    slot_date: dt.date | None = None
    needs_rebooking: bool = False
    # True when a re-plan (not a person) cancelled it; such a visit comes
    # back if a later correction plans it again.
    cancelled_by_plan: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.rule_code, self.occurrence)


@dataclass(frozen=True)
class Procedure:
    surgery_date: dt.date
    kind: str
    annual_reviews_ended_on: dt.date | None = None


class Action(enum.StrEnum):
    CREATE = "create"
    # An unbooked visit gets new dates.
    MOVE = "move"
    # A booked visit gets the new window; its slot stays. `needs_rebooking`
    # says whether the change moved the window away from the slot.
    RETIME = "retime"
    CANCEL = "cancel"
    # A visit a re-plan had cancelled is planned again.
    REOPEN = "reopen"


@dataclass(frozen=True)
class Change:
    action: Action
    planned: PlannedVisit | None = None
    visit_id: int | None = None
    needs_rebooking: bool = False

    def target(self) -> PlannedVisit:
        """The planned dates; every action but CANCEL carries them."""
        if self.planned is None:
            raise ValueError(f"a {self.action} change carries no plan")
        return self.planned

    def existing_id(self) -> int:
        """The visit changed; every action but CREATE names one."""
        if self.visit_id is None:
            raise ValueError(f"a {self.action} change names no visit")
        return self.visit_id


def _occurrences(rule: RuleSpec, proc: Procedure, horizon: dt.date) -> Iterator[int]:
    if not rule.recurring:
        yield 1
        return
    occurrence = 1
    while True:
        due = rule.due_date(proc.surgery_date, occurrence)
        if due > horizon:
            return
        if proc.annual_reviews_ended_on and due > proc.annual_reviews_ended_on:
            return
        yield occurrence
        occurrence += 1


def _planned(rule: RuleSpec, proc: Procedure, occurrence: int) -> PlannedVisit:
    due = rule.due_date(proc.surgery_date, occurrence)
    window_start, window_end = rule.window(due)
    return PlannedVisit(
        rule_code=rule.code,
        occurrence=occurrence,
        due_date=due,
        window_start=window_start,
        window_end=window_end,
        duration_minutes=rule.duration_minutes,
        requires_mri=rule.requires_mri,
    )


def plan(
    proc: Procedure, rules: Iterable[RuleSpec], *, horizon: dt.date
) -> list[PlannedVisit]:
    """Every visit the protocol asks of `proc`, recurring ones up to `horizon`.

    Sorted by due date, then rule code, so the plan is deterministic.
    """
    visits = [
        _planned(rule, proc, occurrence)
        for rule in rules
        if proc.kind in rule.kinds
        for occurrence in _occurrences(rule, proc, horizon)
    ]
    return sorted(visits, key=lambda v: (v.due_date, v.rule_code, v.occurrence))


def _still_planned(
    visit: ExistingVisit, proc: Procedure, rules: Mapping[str, RuleSpec]
) -> PlannedVisit | None:
    """The plan for an existing recurring visit beyond the horizon.

    A correction that pushes an annual review past today's horizon must not
    cancel it: it is still part of the programme, only later.
    """
    rule = rules.get(visit.rule_code)
    if rule is None or not rule.recurring or proc.kind not in rule.kinds:
        return None
    candidate = _planned(rule, proc, visit.occurrence)
    ended = proc.annual_reviews_ended_on
    if ended and candidate.due_date > ended:
        return None
    return candidate


def _same_dates(visit: ExistingVisit, planned: PlannedVisit) -> bool:
    return (visit.due_date, visit.window_start, visit.window_end) == (
        planned.due_date,
        planned.window_start,
        planned.window_end,
    )


class Placement(enum.Enum):
    EARLY = "early"
    INSIDE = "inside"
    LATE = "late"


def _placement(slot: dt.date, window: ExistingVisit | PlannedVisit) -> Placement:
    if slot < window.window_start:
        return Placement.EARLY
    if slot > window.window_end:
        return Placement.LATE
    return Placement.INSIDE


def needs_rebooking(visit: ExistingVisit, planned: PlannedVisit) -> bool:
    """Whether a booked visit's slot needs rebooking once its window becomes
    `planned`'s: only when the change moved the window away from the slot.

    - A slot inside the new window never does (a flag it had is cleared).
    - A flag still unresolved stays while its slot is outside.
    - A slot inside the old window does when it is outside the new one.
    - A late slot (after the old window closed, booked late as the README
      allows) stays late without a flag, unless the new window makes it worse:
      closes earlier (the slot is later past it) or opens after the slot.
    - A slot a person chose before the old window opened (an override, with
      its reason) stays as they chose it.
    """
    slot = visit.slot_date
    if slot is None:
        return False
    after = _placement(slot, planned)
    if after is Placement.INSIDE:
        return False
    if visit.needs_rebooking:
        return True
    before = _placement(slot, visit)
    if before is Placement.INSIDE:
        return True
    if before is Placement.LATE:
        return after is Placement.EARLY or planned.window_end < visit.window_end
    return False


def diff(
    proc: Procedure,
    rules: Iterable[RuleSpec],
    existing: Iterable[ExistingVisit],
    *,
    horizon: dt.date,
) -> list[Change]:
    """What to write so that `existing` matches the plan of `proc`.

    Completed, checked-in and person-cancelled visits are history and are
    left alone; a booked visit keeps its slot and is flagged when the change
    moved its window away from the slot (`needs_rebooking`). A booked visit
    whose window does not move is never flagged: a slot a person chose
    outside the window (a late booking, an override with its reason) stays
    as they chose it; a flag whose slot is back inside the window is cleared.
    """
    rules = list(rules)
    by_code = {rule.code: rule for rule in rules}
    wanted = {p.key: p for p in plan(proc, rules, horizon=horizon)}
    current = {v.key: v for v in existing}
    changes: list[Change] = []

    for visit in sorted(current.values(), key=lambda v: (v.rule_code, v.occurrence)):
        planned = wanted.get(visit.key) or _still_planned(visit, proc, by_code)
        if planned is None:
            if visit.status in OPEN_STATUSES:
                changes.append(Change(Action.CANCEL, visit_id=visit.id))
            continue
        if visit.status == CANCELLED:
            if visit.cancelled_by_plan:
                changes.append(
                    Change(Action.REOPEN, planned=planned, visit_id=visit.id)
                )
            continue
        if visit.status not in OPEN_STATUSES:
            continue
        if visit.status in SLOTTED_STATUSES and visit.slot_date is not None:
            inside = _placement(visit.slot_date, planned) is Placement.INSIDE
            moved = not _same_dates(visit, planned)
            stale_flag = visit.needs_rebooking and inside
            if moved or stale_flag:
                changes.append(
                    Change(
                        Action.RETIME,
                        planned=planned,
                        visit_id=visit.id,
                        needs_rebooking=moved and needs_rebooking(visit, planned),
                    )
                )
        elif not _same_dates(visit, planned):
            changes.append(Change(Action.MOVE, planned=planned, visit_id=visit.id))

    for key, planned in wanted.items():
        if key not in current:
            changes.append(Change(Action.CREATE, planned=planned))
    return changes


def milestones(
    proc: Procedure, specs: Iterable[MilestoneSpec]
) -> list[tuple[MilestoneSpec, dt.date]]:
    """The recovery milestones of `proc`, each with its date."""
    return sorted(
        (
            (spec, add_offset(proc.surgery_date, spec.offset_amount, spec.offset_unit))
            for spec in specs
            if proc.kind in spec.kinds
        ),
        key=lambda pair: (pair[1], pair[0].code),
    )


def horizon_for(today: dt.date, years: int) -> dt.date:
    """The last due date that generation must already hold."""
    return add_months(today, 12 * years)
