"""Celery tasks: thin wrappers that read the clock and call one service."""

from celery import shared_task
from django.utils import timezone

from followup import services


@shared_task(acks_late=True)
def extend_annual_review_horizon() -> int:
    """Daily: generate the annual reviews that the rolling horizon reaches."""
    return services.extend_annual_horizon(today=timezone.localdate())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: int) -> str:
    """A big CSV import: one transaction, so a redelivered task starts over;
    a copy sent while another runs returns at once."""
    return services.run_import_job(job_id=job_id).state


@shared_task(acks_late=True)
def sweep_import_jobs() -> int:
    """Beat: imports whose task was lost go to a worker again."""
    return services.sweep_import_jobs(now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_replan_job(job_id: int) -> int:
    """A clinic admin's re-plan: resumable, so a redelivered task goes on."""
    return services.run_replan_job(job_id=job_id).done
