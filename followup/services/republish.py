"""Re-publishing visits whose calendar entries say something new while the
visits themselves did not move.

A visit's calendar entry names its rule, its surgeon and its patient, each
kept on a row of its own: a rule or a surgeon renamed (the admin), a
patient's name or record number corrected, an MRI study recorded (a review's
"MRI missing") changes what the entry says without any change of the visit.
Each such visit gets a higher SEQUENCE (RFC 5545: clients replace their copy
only then) and a new `updated_at` (what the feeds compare their stored entry
with), and is told to the calendars (`visits_changed`) in the same
transaction: re-rendered, its feeds' versions raised, its export sent.

A recovery milestone is no visit: edited, it is shown anew in every
patient's feed (`milestone_edited`).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from followup.changes import milestones_changed, visits_changed
from followup.models import RecoveryMilestone, Visit

# The fields of a rule and of a surgeon that calendar entries show.
RULE_FIELDS_SHOWN = frozenset({"name"})
SURGEON_FIELDS_SHOWN = frozenset({"given_name", "family_name"})


def republish(visits: QuerySet[Visit]) -> list[int]:
    """Give these visits a higher SEQUENCE and tell the calendars; their ids.

    Call inside the transaction that made the change. Two statements and
    the calendars' handlers, whatever the number of visits.
    """
    # Updated through the filter itself: a rule's visits may be more than
    # SQLite takes as the parameters of one statement.
    visits.update(sequence=F("sequence") + 1, updated_at=timezone.now())
    ids = list(visits.order_by("pk").values_list("pk", flat=True))
    visits_changed(ids)
    return ids


@transaction.atomic
def rule_edited(*, rule_id: int, changed: Collection[str]) -> list[int]:
    """A follow-up rule was saved with these fields changed: when one of
    them is shown in calendars (its name), every visit of the rule is
    re-published. Its dates and windows change only by a re-plan."""
    if not RULE_FIELDS_SHOWN & set(changed):
        return []
    return republish(Visit.objects.filter(rule_id=rule_id))


@transaction.atomic
def surgeon_edited(*, surgeon_id: int, changed: Collection[str]) -> list[int]:
    """A surgeon was saved with these fields changed: when their name
    changed, every visit booked with them (whose entry says "With Dr. …")
    is re-published, which also refreshes their feed's name."""
    if not SURGEON_FIELDS_SHOWN & set(changed):
        return []
    return republish(Visit.objects.filter(surgeon_id=surgeon_id))


@transaction.atomic
def milestone_edited(*, milestone_id: int | None = None) -> None:
    """A recovery milestone was added, edited, switched off or deleted
    (`milestone_id` None for the last): its events in the patients' feeds
    get a higher SEQUENCE, and the feeds a new version."""
    if milestone_id is not None:
        RecoveryMilestone.objects.filter(pk=milestone_id).update(
            revision=F("revision") + 1, updated_at=timezone.now()
        )
    milestones_changed()
