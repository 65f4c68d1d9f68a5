"""A procedure's plan applied to its visits: generation and re-plan.

`replan` asks the pure planner (`followup.rules.diff`) what the procedure's
visits should be and applies the answer: new visits are created (in bulk,
by COPY on PostgreSQL, through `bulk_create_visits`), unbooked ones move,
booked ones whose window moves away from their slot are flagged for
rebooking (`followup.rules.needs_rebooking`), visits
no longer in the plan are cancelled, and completed visits never change.
The caller holds the procedure's row lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from clinic import clock
from clinic.models import Procedure
from core import db
from followup import rules
from followup.changes import tell_if_freed, visits_changed
from followup.models import (
    CancelReason,
    FollowUpRule,
    Visit,
    VisitEvent,
    VisitStatus,
    plan_input,
)
from followup.models.authorship import username_of
from followup.services.history import record_event

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    User = AuthUser | None


@dataclass
class PlanResult:
    """What a generation or re-plan changed, visit ids by action."""

    procedure: Procedure
    created: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (self.created, self.moved, self.flagged, self.cancelled, self.reopened)
        )

    def as_dict(self) -> dict[str, list[int]]:
        return {
            "created": self.created,
            "moved": self.moved,
            "flagged": self.flagged,
            "cancelled": self.cancelled,
            "reopened": self.reopened,
        }


def horizon(today: dt.date) -> dt.date:
    return rules.horizon_for(today, settings.ANNUAL_REVIEW_HORIZON_YEARS)


def outcome(change: rules.Change) -> str:
    """What a change does to its visit, named as answers and previews name it."""
    if change.action is rules.Action.RETIME:
        return FLAGGED if change.needs_rebooking else MOVED
    return OUTCOMES[change.action]


MOVED, FLAGGED = "moved", "flagged_for_rebooking"
# How a person reads each outcome (previews, pages).
OUTCOME_LABELS = {
    "created": "New visits",
    MOVED: "Moved to new dates",
    FLAGGED: "Booked, flagged for rebooking",
    "cancelled": "Cancelled",
    "reopened": "Planned again",
    "unchanged": "Unchanged",
}
OUTCOMES = {
    rules.Action.CREATE: "created",
    rules.Action.MOVE: MOVED,
    rules.Action.CANCEL: "cancelled",
    rules.Action.REOPEN: "reopened",
}


@dataclass(frozen=True)
class Window:
    due_date: dt.date
    window_start: dt.date
    window_end: dt.date


@dataclass(frozen=True)
class VisitChange:
    """One visit in a preview: what a re-plan would do to it, and its dates."""

    action: str  # created, moved, flagged_for_rebooking, cancelled, reopened,
    # or unchanged
    visit_id: int | None  # None for a visit still to be created
    rule: str
    occurrence: int
    before: Window | None
    after: Window | None


def _changes(
    procedure: Procedure,
    visits: dict[int, Visit],
    rule_rows: dict[str, FollowUpRule],
    *,
    today: dt.date,
    create_only: bool,
) -> list[rules.Change]:
    changes = rules.diff(
        plan_input(procedure),
        [rule.as_spec() for rule in rule_rows.values()],
        [v.as_plan_input() for v in visits.values()],
        horizon=horizon(today),
    )
    if create_only:
        # Generation adds what is missing and rewrites nothing: an edited
        # rule reaches existing visits only through an explicit re-plan.
        changes = [c for c in changes if c.action is rules.Action.CREATE]
    return changes


def preview(
    procedure: Procedure,
    *,
    today: dt.date,
    rule_rows: dict[str, FollowUpRule] | None = None,
    prefetched: bool = False,
) -> list[VisitChange]:
    """What `replan` would do to the procedure's visits, writing nothing.

    The procedure may carry unsaved corrections (date, kind); `rule_rows`,
    edited rules not yet saved; `prefetched`, its visits with their rules.
    The same diff as `replan`, classified by the same `outcome`, so a
    preview is what the re-plan then does.
    """
    if not procedure.is_active():
        return []
    rows = rule_rows if rule_rows is not None else active_rules()
    # A caller previewing many procedures prefetches their visits and rules.
    found = (
        procedure.visits.all()
        if prefetched
        else procedure.visits.select_related("rule")
    )
    visits = {v.pk: v for v in found}
    changes = _changes(procedure, visits, rows, today=today, create_only=False)
    answer = []
    touched = set()
    for change in changes:
        planned = change.planned
        after = None
        if planned is not None and change.action is not rules.Action.CANCEL:
            after = Window(planned.due_date, planned.window_start, planned.window_end)
        if change.action is rules.Action.CREATE:
            assert planned is not None  # noqa: S101 - CREATE carries its plan
            answer.append(
                VisitChange(
                    "created", None, planned.rule_code, planned.occurrence, None, after
                )
            )
            continue
        visit = visits[change.existing_id()]
        touched.add(visit.pk)
        answer.append(_visit_change(outcome(change), visit, after))
    answer += [
        _visit_change("unchanged", visit, _window(visit))
        for pk, visit in sorted(visits.items())
        if pk not in touched
    ]
    return answer


def _window(visit: Visit) -> Window:
    return Window(visit.due_date, visit.window_start, visit.window_end)


def _visit_change(action: str, visit: Visit, after: Window | None) -> VisitChange:
    return VisitChange(
        action, visit.pk, visit.rule.code, visit.occurrence, _window(visit), after
    )


def active_rules() -> dict[str, FollowUpRule]:
    return {rule.code: rule for rule in FollowUpRule.objects.active()}


def replan(
    procedure: Procedure,
    *,
    today: dt.date,
    actor: User,
    action: str,
    cancel_cause: CancelReason = CancelReason.REPLANNED,
    reason: str = "",
    create_only: bool = False,
) -> PlanResult:
    result = PlanResult(procedure=procedure)
    if not procedure.is_active():
        return result
    rule_rows = active_rules()
    visits = {
        v.pk: v
        for v in procedure.visits.select_related("rule").select_for_update(of=("self",))
    }
    changes = _changes(
        procedure, visits, rule_rows, today=today, create_only=create_only
    )
    to_create: list[Visit] = []
    for change in changes:
        if change.action is rules.Action.CREATE:
            planned = change.target()
            to_create.append(
                new_visit(procedure, rule_rows[planned.rule_code], planned)
            )
            continue
        visit = visits[change.existing_id()]
        if change.action is rules.Action.CANCEL:
            cancel_by_plan(visit, cause=cancel_cause, reason=reason, actor=actor)
            result.cancelled.append(visit.pk)
            continue
        planned = change.target()
        if change.action is rules.Action.REOPEN:
            _reopen(visit, planned, actor=actor)
            result.reopened.append(visit.pk)
        elif change.action is rules.Action.RETIME:
            _retime(visit, planned, needs_rebooking=change.needs_rebooking, actor=actor)
            (result.flagged if outcome(change) == FLAGGED else result.moved).append(
                visit.pk
            )
        else:
            _move(visit, planned, actor=actor)
            result.moved.append(visit.pk)
    if to_create:
        created = bulk_create_visits(to_create, actor=actor, action=action)
        result.created.extend(v.pk for v in created)
    return result


def new_visit(
    procedure: Procedure, rule: FollowUpRule, planned: rules.PlannedVisit
) -> Visit:
    return Visit(
        procedure=procedure,
        patient_id=procedure.patient_id,
        rule=rule,
        occurrence=planned.occurrence,
        due_date=planned.due_date,
        window_start=planned.window_start,
        window_end=planned.window_end,
        duration_minutes=planned.duration_minutes,
        requires_mri=planned.requires_mri,
        surgeon_id=procedure.surgeon_id,
        status=VisitStatus.TO_BOOK,
    )


def bulk_create_visits(
    visits: Sequence[Visit], *, actor: User, action: str = "generated"
) -> list[Visit]:
    """Insert new visits and their first events; sets each visit's id.

    On PostgreSQL both go in by COPY (`core.db.insert_many`): the 35,000
    visits of a 10,000-row import took 6-7 s through `bulk_create`, nearly
    all of it Django preparing each value.
    """
    now = timezone.now()
    created = db.insert_many(visits, now=now)
    if not created:
        return created
    ids = [visit.pk for visit in created]
    db.insert_rows(
        VisitEvent,
        {
            "visit_id": ids,
            "actor_id": None if actor is None else actor.pk,
            "actor_username": username_of(actor),
            "at": now,
            "action": action,
            "to_status": [v.status for v in created],
            "details": [_first_event_details(v) for v in created],
        },
        rows=len(created),
        now=now,
    )
    visits_changed(ids)
    return created


def _first_event_details(visit: Visit) -> dict[str, str]:
    return {"due_date": visit.due_date.isoformat()}


def _plan_fields(visit: Visit, planned: rules.PlannedVisit) -> dict[str, Any]:
    before = {
        "due_date": visit.due_date.isoformat(),
        "window": [visit.window_start.isoformat(), visit.window_end.isoformat()],
    }
    visit.due_date = planned.due_date
    visit.window_start = planned.window_start
    visit.window_end = planned.window_end
    visit.sequence += 1
    return {
        "before": before,
        "after": {
            "due_date": planned.due_date.isoformat(),
            "window": [
                planned.window_start.isoformat(),
                planned.window_end.isoformat(),
            ],
        },
    }


# A re-plan changes what calendars publish (a window, a flag, a status): the
# entry's SEQUENCE rises with it, as for every change after generation.
_PLAN_FIELDS = ["due_date", "window_start", "window_end", "sequence", "updated_at"]


def _move(visit: Visit, planned: rules.PlannedVisit, *, actor: User) -> None:
    details = _plan_fields(visit, planned)
    visit.save(update_fields=_PLAN_FIELDS)
    record_event(
        visit, action="moved", actor=actor, from_status=visit.status, details=details
    )


def _retime(
    visit: Visit, planned: rules.PlannedVisit, *, needs_rebooking: bool, actor: User
) -> None:
    details = _plan_fields(visit, planned)
    visit.needs_rebooking = needs_rebooking
    visit.save(update_fields=[*_PLAN_FIELDS, "needs_rebooking"])
    record_event(
        visit,
        action="flagged_for_rebooking" if needs_rebooking else "window_moved",
        actor=actor,
        from_status=visit.status,
        details=details,
    )


def _reopen(visit: Visit, planned: rules.PlannedVisit, *, actor: User) -> None:
    previous = visit.status
    details = _plan_fields(visit, planned)
    before = (visit.start, visit.end)
    visit.status = VisitStatus.TO_BOOK
    visit.start = visit.end = None
    visit.cancel_reason = ""
    visit.cancelled_by = ""
    visit.needs_rebooking = False
    visit.save(
        update_fields=[
            *_PLAN_FIELDS,
            "status",
            "start",
            "end",
            "cancel_reason",
            "cancelled_by",
            "needs_rebooking",
        ]
    )
    record_event(
        visit,
        action="reopened",
        actor=actor,
        from_status=previous,
        slot_before=before,
        details=details,
    )


def cancel_by_plan(
    visit: Visit, *, cause: CancelReason, reason: str, actor: User
) -> None:
    previous = visit.status
    text = reason or cause.label
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = text
    visit.cancelled_by = cause
    visit.needs_rebooking = False
    visit.sequence += 1
    # The slot stays on the row so calendars can publish the cancellation.
    visit.save(
        update_fields=[
            "status",
            "cancel_reason",
            "cancelled_by",
            "needs_rebooking",
            "sequence",
            "updated_at",
        ]
    )
    record_event(
        visit, action="cancelled", actor=actor, from_status=previous, reason=text
    )
    # A booked slot given back (the patient left care, the procedure was
    # cancelled) is offered to others like a clerk's cancellation; this
    # path is not told the time, so the clinic's clock says it.
    tell_if_freed(
        visit,
        status_before=previous,
        slot_before=(visit.start, visit.end),
        surgeon_before=visit.surgeon_id,
        action="cancelled",
        at=clock.now(),
    )
