"""Surgeons' weekly consultation sessions, in the clinic's wall-clock time."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.template.defaultfilters import pluralize

from followup.models.protocol import FollowUpRule


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ConsultationSession(models.Model):
    """A surgeon's weekly consultation hours, in the clinic's wall-clock time.

    A booking fits a session when it lies inside it on its local weekday and
    starts on the session's grid (start time + k * slot length). A surgeon
    with no session rows at all consults in the clinic hours of the
    `CLINIC_HOURS` setting.
    """

    surgeon = models.ForeignKey(
        "clinic.Surgeon", on_delete=models.CASCADE, related_name="sessions"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Clinic-local wall-clock time.")
    end_time = models.TimeField(help_text="Clinic-local wall-clock time.")
    slot_minutes = models.PositiveIntegerField(
        default=10, help_text="Bookings start on this grid from the start time."
    )
    valid_from = models.DateField(
        null=True, blank=True, help_text="First day it applies; empty: always."
    )
    valid_to = models.DateField(
        null=True, blank=True, help_text="Last day it applies; empty: open-ended."
    )

    class Meta:
        ordering = ["surgeon", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="session_ends_after_start",
                violation_error_message="A session must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gt=0),
                name="session_slot_positive",
                violation_error_message="The slot length must be at least one minute.",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="session_weekday_known",
                violation_error_message="The weekday must be Monday (0) to Sunday (6).",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="session_valid_to_after_from",
                violation_error_message="'Valid to' must not be before 'valid from'.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_weekday_display()} {self.start_time:%H:%M}-"
            f"{self.end_time:%H:%M} every {self.slot_minutes} min"
        )

    def clean(self) -> None:
        """Refuse hours that overlap another session of the surgeon's on the
        same weekday while both apply: the slot search would offer both
        grids at once (09:00-09:20 beside 09:10-09:30), slots that cannot
        both be booked. Sessions that only touch (one ends at 12:00, the
        next starts at 12:00) are fine. Refuse hours too short for any visit
        as well (`check_holds_a_visit`)."""
        super().clean()
        self.check_holds_a_visit()
        other = self.overlapping().select_related("surgeon").first()
        if other is not None:
            raise ValidationError(
                f"{other.surgeon} already consults {other.get_weekday_display()}s "
                f"{other.start_time:%H:%M}-{other.end_time:%H:%M} "
                f"({other.applies()}), which overlaps these hours: the slots of "
                "both would be offered at once. Change the hours or the dates, "
                "or edit that session instead.",
                code="session_overlap",
            )

    def check_holds_a_visit(self) -> None:
        """Refuse hours shorter than the shortest visit of any active rule: a
        booking starts on the grid and ends inside the session, so not one
        could ever fit (a rule switched off plans no visit, so it does not
        count). Nothing to check while the hours are missing or out of order
        (their own error says so), nor with no active rule."""
        if (
            self.start_time is None
            or self.end_time is None
            or self.end_time <= self.start_time
        ):
            return
        shortest = (
            FollowUpRule.objects.active().order_by("duration_minutes", "pk").first()
        )
        if shortest is None:
            return
        day = dt.date(2000, 1, 1)  # any: only the difference counts
        length = dt.datetime.combine(day, self.end_time) - dt.datetime.combine(
            day, self.start_time
        )
        needed = shortest.duration_minutes
        if length < dt.timedelta(minutes=needed):
            held = int(length.total_seconds()) // 60
            takes = f"{needed} minute{pluralize(needed)}"
            raise ValidationError(
                f"This session is {held} minute{pluralize(held)} long; the "
                f"shortest visit ({shortest.name}) takes {takes}, so no visit "
                f"could ever be booked in it. Make it at least {takes} long.",
                code="session_too_short",
            )

    def overlapping(self) -> QuerySet[ConsultationSession]:
        """The surgeon's other sessions whose hours and dates meet these;
        none to check while a field is missing or out of order (its own
        error says so)."""
        sessions = ConsultationSession.objects.none()
        if (
            self.surgeon_id is None
            or self.weekday is None
            or self.start_time is None
            or self.end_time is None
            or self.end_time <= self.start_time
            or (
                self.valid_from is not None
                and self.valid_to is not None
                and self.valid_to < self.valid_from
            )
        ):
            return sessions
        sessions = ConsultationSession.objects.filter(
            surgeon_id=self.surgeon_id,
            weekday=self.weekday,
            start_time__lt=self.end_time,
            end_time__gt=self.start_time,
        ).exclude(pk=self.pk)
        if self.valid_from is not None:
            sessions = sessions.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from)
            )
        if self.valid_to is not None:
            sessions = sessions.filter(
                Q(valid_from__isnull=True) | Q(valid_from__lte=self.valid_to)
            )
        return sessions.order_by("start_time", "pk")

    def applies(self) -> str:
        """When it applies, in words: "always", "from 2027-01-04", ..."""
        if self.valid_from and self.valid_to:
            return f"from {self.valid_from} to {self.valid_to}"
        if self.valid_from:
            return f"from {self.valid_from}"
        if self.valid_to:
            return f"until {self.valid_to}"
        return "always"
