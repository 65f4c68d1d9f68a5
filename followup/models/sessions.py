"""Surgeons' weekly consultation sessions, in the clinic's wall-clock time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import (
    F,
    Q,
)

if TYPE_CHECKING:
    pass


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
