"""The visits a procedure's plan generates: the `Visit` model and its facts.

Every change of a visit writes a `VisitEvent`. Reads live on `VisitQuerySet`
(its methods in `followup.models.visit_queries`); statuses and cancel reasons in
`followup.models.statuses`. The names below stay importable from here.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import (
    F,
    Q,
)

from clinic.clock import local_date
from clinic.models import Patient, Procedure
from followup import rules
from followup.models.mri import MriStatus
from followup.models.protocol import FollowUpRule
from followup.models.statuses import (
    AWAITING_BOOKING_STATUSES,
    FHIR_STATUS,
    LOST_CAUSES,
    NOT_YET_SEEN_STATUSES,
    SLOT_HOLDING_STATUSES,
    CancelReason,
    VisitStatus,
)
from followup.models.visit_queries import MRI_NOT_READY, VisitReads, mri_flag_days


def plan_input(procedure: Procedure) -> rules.Procedure:
    """A procedure as the pure planner reads it."""
    return rules.Procedure(
        surgery_date=procedure.surgery_date,
        kind=procedure.kind,
        annual_reviews_ended_on=procedure.annual_reviews_ended_on,
    )


class VisitQuerySet(VisitReads["Visit"]):
    """Every read of the visits: `VisitReads`, the worklist's mixed in."""


class Visit(models.Model):
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="visits"
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="visits",
        help_text="The procedure's patient, copied here so that the database "
        "itself can refuse a patient's overlapping bookings.",
    )
    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, related_name="+")
    occurrence = models.PositiveIntegerField(default=1)
    due_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    duration_minutes = models.PositiveIntegerField()
    requires_mri = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=VisitStatus.choices, default=VisitStatus.TO_BOOK
    )
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    surgeon = models.ForeignKey(
        "clinic.Surgeon",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booked_visits",
        help_text="Who sees the patient at this visit; set when booked.",
    )
    needs_rebooking = models.BooleanField(
        default=False,
        help_text="The booked slot lies outside the window after a correction.",
    )
    sequence = models.PositiveIntegerField(
        default=0, help_text="iCalendar SEQUENCE: rises on every reschedule."
    )
    late_by_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Booked this many days after its window closed: seen late.",
    )
    confirmed = models.BooleanField(
        default=False,
        help_text="The patient confirmed this booking (a reply to its reminder); "
        "cleared when the visit is moved, unbooked or cancelled.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_by = models.CharField(
        max_length=24, choices=CancelReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["window_end", "due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "rule", "occurrence"],
                name="visit_one_per_rule_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=F("due_date"))
                & Q(due_date__lte=F("window_end")),
                name="visit_window_holds_due_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VisitStatus.values), name="visit_status_known"
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__lt=F("end")),
                name="visit_slot_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=SLOT_HOLDING_STATUSES)
                | Q(start__isnull=False, surgeon__isnull=False),
                name="visit_booked_has_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "window_end"]),
            models.Index(fields=["surgeon", "start"]),
            # The front desk's worklist ("All": to book, no-shows, and booked
            # visits to rebook) in its own order, so that a page and a tab's
            # capped count read only the rows they show. `window_start` rides
            # along for the buckets' conditions, checked in the index.
            models.Index(
                fields=["window_end", "due_date", "id", "window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES)
                | Q(status=VisitStatus.BOOKED, needs_rebooking=True),
                name="visit_to_work_by_window",
            ),
            # A surgeon's upcoming visits to book, by due date (`upcoming`).
            models.Index(
                fields=["due_date", "window_end", "window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES, start=None),
                name="visit_awaiting_by_due_date",
            ),
            # A no-show still to rebook keeps the slot it missed (`upcoming`).
            models.Index(
                fields=["start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES, start__isnull=False),
                name="visit_awaiting_with_slot",
            ),
            # "Not yet open": the visits to book by the day their window opens.
            models.Index(
                fields=["window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES),
                name="visit_awaiting_by_opening",
            ),
            # Visits cancelled as lost, by when (`lost_to_follow_up`).
            models.Index(
                fields=["updated_at"],
                condition=Q(status=VisitStatus.CANCELLED, cancelled_by__in=LOST_CAUSES),
                name="visit_lost_by_update",
            ),
            # Booked, not seen yet, by time: the desk's Today tab, a surgeon's
            # upcoming bookings, the MRI chase list.
            models.Index(
                fields=["start"],
                condition=Q(status__in=NOT_YET_SEEN_STATUSES),
                name="visit_not_yet_seen_by_start",
            ),
        ]
        permissions = [
            ("override_booking_window", "Can book a visit outside its window"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label()} due {self.due_date}"

    def kind_label(self) -> str:
        """The visit as the clinic names it: its rule, and which one of a
        recurring series after the first ("Annual MRI review #2")."""
        suffix = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.rule.name}{suffix}"

    def is_overdue(self, today: dt.date) -> bool:
        """Its window closed before `today` while it still waits for a slot
        (`VisitQuerySet.overdue`)."""
        return self.status in AWAITING_BOOKING_STATUSES and self.window_end < today

    def mri_not_ready(self) -> MriStatus | None:
        """`missing` or `report_pending` for a review whose scan is not ready,
        else None. Reads `mri_status` (`VisitQuerySet.with_mri_status`); a
        visit read without it is never flagged."""
        status = getattr(self, "mri_status", None)
        if not self.requires_mri or status not in MRI_NOT_READY:
            return None
        return MriStatus(status)

    def mri_flag(self, today: dt.date) -> MriStatus | None:
        """The scan to chase before this visit, if it is a booked (or checked-in)
        review in the next `MRI_FLAG_DAYS` days whose scan is not ready; the
        one rule behind `VisitQuerySet.mri_flagged`, the banner and every row."""
        if self.status not in NOT_YET_SEEN_STATUSES or self.start is None:
            return None
        first, last = mri_flag_days(today)
        if not first <= local_date(self.start) <= last:
            return None
        return self.mri_not_ready()

    @property
    def fhir_status(self) -> str:
        return FHIR_STATUS[VisitStatus(self.status)]

    def slot_local_date(self) -> dt.date | None:
        if self.start is None:
            return None
        return local_date(self.start)

    def as_plan_input(self) -> rules.ExistingVisit:
        return rules.ExistingVisit(
            id=self.pk,
            rule_code=self.rule.code,
            occurrence=self.occurrence,
            status=self.status,
            due_date=self.due_date,
            window_start=self.window_start,
            window_end=self.window_end,
            slot_date=self.slot_local_date(),
            needs_rebooking=self.needs_rebooking,
            cancelled_by_plan=self.cancelled_by == CancelReason.REPLANNED,
        )
