"""A visit's history: one `VisitEvent` for every change, and the calendars told.

Every service that changes a visit calls `record_event` in the same
transaction: who, when (the service's `now`), from which status to which,
the reason, and the slot before and after.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from followup.changes import visits_changed
from followup.models import Visit, VisitEvent
from followup.models.authorship import NamedActor, account_of, username_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    User = AuthUser | NamedActor | None

logger = logging.getLogger(__name__)


def record_event(
    visit: Visit,
    *,
    action: str,
    actor: User,
    from_status: str,
    reason: str = "",
    slot_before: tuple[dt.datetime | None, dt.datetime | None] | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> VisitEvent:
    """Write the history row of one visit change, made `at` (default: now).

    `actor` may be a `NamedActor` (the patient through their link or a
    text): its name is the row's author, with no account."""
    start_before, end_before = slot_before if slot_before else (visit.start, visit.end)
    visits_changed([visit.pk])
    # Ids, action and statuses only: the reason is free text a person typed.
    logger.info(
        "Visit %s: %s, %s to %s",
        visit.pk,
        action,
        from_status,
        visit.status,
        extra={"visit_id": visit.pk},
    )
    return VisitEvent.objects.create(
        visit=visit,
        at=at or timezone.now(),
        actor=account_of(actor),
        actor_username=username_of(actor),
        action=action,
        from_status=from_status,
        to_status=visit.status,
        reason=reason,
        start_before=start_before,
        end_before=end_before,
        start_after=visit.start,
        end_after=visit.end,
        details=details or {},
    )
