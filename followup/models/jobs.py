"""Background jobs: a clinic admin's re-plan, and big CSV imports."""

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


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Imported"
    FAILED = "failed", "Nothing imported"


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def unfinished(self) -> ImportJobQuerySet:
        return self.filter(state__in=[ImportJobState.QUEUED, ImportJobState.RUNNING])


class ImportJob(models.Model):
    """A CSV import too big to run inside a web request (`IMPORT_SYNC_MAX_ROWS`).

    The file is kept in the row itself (`data`, compressed), so it reaches the worker
    with the same durability as the job: written in one transaction with
    it, backed up with the database, and needing no volume shared between
    the web and worker containers. It is emptied when the job ends, so the
    patients' details in it are not kept beyond the import.

    The import is one transaction, which also marks the job `done`: a worker
    that dies leaves nothing written, and the job `queued` or `running` for
    Redis or the sweep to hand to another worker, at most
    `IMPORT_JOB_MAX_ATTEMPTS` times. `done_rows` is written from a second
    connection while the import runs, so it shows outside its transaction.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(max_length=255, blank=True)
    today = models.DateField(help_text="The day the import's checks are made for.")
    data = models.BinaryField(
        help_text="The CSV file, zlib-compressed; emptied when the job ends."
    )
    state = models.CharField(
        max_length=16, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    rows = models.PositiveIntegerField(help_text="Rows in the file.")
    done_rows = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Moved on every claim and every progress step: the sweep hands a job
    # that stopped moving to a worker again.
    touched_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    detail = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["touched_at"],
                name="importjob_unfinished_touched",
                condition=models.Q(state__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.done_rows}/{self.rows} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in {ImportJobState.DONE, ImportJobState.FAILED}

    @property
    def percent(self) -> int:
        return (
            100 if not self.rows else min(100, round(100 * self.done_rows / self.rows))
        )
