"""A model of what the services do with a plan diff, for the property tests.

`apply` gives the visits after `changes` as the database would hold them,
with the same semantics as `followup.services.plan.replan`, so a property
test can show that planning again after applying a diff changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from followup.rules import (
    CANCELLED,
    TO_BOOK,
    Action,
    Change,
    ExistingVisit,
)


def apply(
    existing: Iterable[ExistingVisit], changes: Iterable[Change], *, next_id: int
) -> list[ExistingVisit]:
    """The visits after `changes`, as the database would hold them.

    The same semantics as `followup.services`; used by the property tests to
    show that planning again after applying a diff changes nothing.
    """
    visits = {v.id: v for v in existing}
    for change in changes:
        if change.action is Action.CREATE:
            planned = change.target()
            visits[next_id] = ExistingVisit(
                id=next_id,
                rule_code=planned.rule_code,
                occurrence=planned.occurrence,
                status=TO_BOOK,
                due_date=planned.due_date,
                window_start=planned.window_start,
                window_end=planned.window_end,
            )
            next_id += 1
            continue
        visit = visits[change.existing_id()]
        if change.action is Action.CANCEL:
            visits[visit.id] = replace(
                visit, status=CANCELLED, cancelled_by_plan=True, needs_rebooking=False
            )
            continue
        planned = change.target()
        visit = replace(
            visit,
            due_date=planned.due_date,
            window_start=planned.window_start,
            window_end=planned.window_end,
        )
        if change.action is Action.REOPEN:
            visit = replace(
                visit,
                status=TO_BOOK,
                cancelled_by_plan=False,
                slot_date=None,
                needs_rebooking=False,
            )
        elif change.action is Action.RETIME:
            visit = replace(visit, needs_rebooking=change.needs_rebooking)
        visits[visit.id] = visit
    return list(visits.values())
