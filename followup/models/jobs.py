"""Background jobs a clinic admin starts and watches: the re-plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    pass


class ReplanJobStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class ReplanJob(models.Model):
    """A clinic admin's re-plan of every active procedure after a rule edit.

    A Celery task works through the procedures in id order, each in its own
    transaction, and records how far it got (`last_procedure_id`), so a
    worker that dies resumes where it stopped and no procedure is ever left
    half re-planned. Re-planning twice changes nothing the second time.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    today = models.DateField(help_text="The day the plan is computed for.")
    status = models.CharField(
        max_length=16,
        choices=ReplanJobStatus.choices,
        default=ReplanJobStatus.PENDING,
    )
    total = models.PositiveIntegerField(help_text="Active procedures to re-plan.")
    done = models.PositiveIntegerField(default=0)
    visits_changed = models.PositiveIntegerField(default=0)
    last_procedure_id = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Re-plan {self.pk}: {self.done}/{self.total} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)
