"""Where every visit change reaches whoever listens: the one seam upwards.

The services call `visits_changed` inside the transaction that changed the
visits. Higher layers (the calendars, `feeds`) register a handler once, in
their `AppConfig.ready`, so follow-up never imports them: the calendars
depend on follow-up, not back. A handler runs inside that transaction, so
it can mark its state stale atomically with the change, and schedules any
outside work for after the commit.

`slot_freed` is the same seam for one fact the visit ids alone no longer
tell once the change is made: a booked slot given back (a cancel, an
unbook, a reschedule away), with the slot it was. Offers of freed slots
(`offers`) listen to it.

`milestones_changed` tells that the clinic's recovery milestones changed
(added, edited, switched off or deleted): every patient's feed shows them.

`number_reached_someone_else` tells that a call or text to a patient's
number reached someone else (a wrong number): whoever has that number may
hold texts with the patient's booking links (`booking_links` ends them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from followup.models.statuses import SLOT_HOLDING_STATUSES

if TYPE_CHECKING:
    from followup.models import Visit

ChangeHandler = Callable[[Collection[int]], None]
_handlers: list[ChangeHandler] = []


def on_visits_changed(handler: ChangeHandler) -> None:
    """Register `handler` for every visit change; registering twice is once."""
    if handler not in _handlers:
        _handlers.append(handler)


def visits_changed(visit_ids: Collection[int]) -> None:
    """Tell every registered handler, in registration order."""
    if not visit_ids:
        return
    for handler in _handlers:
        handler(visit_ids)


MilestonesHandler = Callable[[], None]
_milestone_handlers: list[MilestonesHandler] = []


def on_milestones_changed(handler: MilestonesHandler) -> None:
    """Register `handler` for every change of the milestones; twice is once."""
    if handler not in _milestone_handlers:
        _milestone_handlers.append(handler)


def milestones_changed() -> None:
    for handler in _milestone_handlers:
        handler()


NumberHandler = Callable[[int, dt.datetime], None]
_number_handlers: list[NumberHandler] = []


def on_number_reached_someone_else(handler: NumberHandler) -> None:
    """Register `handler(patient_id, now)` for every wrong number reported;
    registering twice is once."""
    if handler not in _number_handlers:
        _number_handlers.append(handler)


def number_reached_someone_else(patient_id: int, now: dt.datetime) -> None:
    for handler in _number_handlers:
        handler(patient_id, now)


@dataclass(frozen=True)
class FreedSlot:
    """A slot a visit held and gave back. `visit_id` and `sequence` (the
    visit's after the change) name the change: the same change told twice
    is the same freed slot."""

    visit_id: int
    patient_id: int
    sequence: int
    surgeon_id: int
    start: dt.datetime
    end: dt.datetime
    at: dt.datetime
    action: str  # the change's `VisitEvent.action`: "unbooked", "cancelled", ...


FreedHandler = Callable[[FreedSlot], None]
_freed_handlers: list[FreedHandler] = []


def on_slot_freed(handler: FreedHandler) -> None:
    """Register `handler` for every slot given back; twice is once."""
    if handler not in _freed_handlers:
        _freed_handlers.append(handler)


def slot_freed(freed: FreedSlot) -> None:
    for handler in _freed_handlers:
        handler(freed)


def tell_if_freed(
    visit: Visit,
    *,
    status_before: str,
    slot_before: tuple[dt.datetime | None, dt.datetime | None],
    surgeon_before: int | None,
    action: str,
    at: dt.datetime,
) -> None:
    """After a change of `visit`: tell `slot_freed` when the slot it held
    before the change is no longer held by it."""
    start, end = slot_before
    if status_before not in SLOT_HOLDING_STATUSES:
        return
    if start is None or end is None or surgeon_before is None:
        return
    still = (visit.start, visit.end, visit.surgeon_id) == (start, end, surgeon_before)
    if still and visit.status in SLOT_HOLDING_STATUSES:
        return
    slot_freed(
        FreedSlot(
            visit_id=visit.pk,
            patient_id=visit.patient_id,
            sequence=visit.sequence,
            surgeon_id=surgeon_before,
            start=start,
            end=end,
            at=at,
            action=action,
        )
    )
