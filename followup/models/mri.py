"""MRI studies, which annual reviews need before the surgeon sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import (
    F,
    Q,
)

from clinic.models import Patient

if TYPE_CHECKING:
    pass


# How far ahead a booked MRI review is flagged when its scan is not ready.
MRI_FLAG_DAYS = 14


class MriStatus(models.TextChoices):
    DONE = "done", "MRI done, report received"
    REPORT_PENDING = "report_pending", "MRI done, report pending"
    MISSING = "missing", "MRI missing"
    NOT_NEEDED = "not_needed", "No MRI needed"

    @property
    def flag_text(self) -> str:
        """How a flag on a review whose scan is not ready says it."""
        return "MRI report pending" if self is MriStatus.REPORT_PENDING else self.label


class MriStudy(models.Model):
    """An MRI scan of a patient, and when its report came back.

    Annual reviews read these to know whether their scan is ready
    (`VisitQuerySet.with_mri_status`). Written by `followup.services.mri`.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="mri_studies"
    )
    performed_on = models.DateField()
    reference = models.CharField(
        max_length=64, help_text="The imaging reference, e.g. a PACS accession number."
    )
    report_received_on = models.DateField(
        null=True, blank=True, help_text="Empty while the radiologist's report is due."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-performed_on", "-id"]
        verbose_name = "MRI study"
        verbose_name_plural = "MRI studies"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "reference"], name="mri_study_one_per_reference"
            ),
            models.CheckConstraint(
                condition=~Q(reference=""), name="mri_study_reference_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(report_received_on__isnull=True)
                | Q(report_received_on__gte=F("performed_on")),
                name="mri_study_report_not_before_scan",
            ),
        ]
        indexes = [models.Index(fields=["patient", "performed_on"])]

    def __str__(self) -> str:
        return f"MRI {self.reference} on {self.performed_on}"
