"""The beat task that sends what is due; the sender owns the retries."""

from __future__ import annotations

from celery import shared_task

from clinic import clock
from messaging.services import send_due_messages as send_due


@shared_task(name="messaging.tasks.send_due_messages", ignore_result=True)
def send_due_messages() -> str:
    """Every minute (CELERY_BEAT_SCHEDULE): send the messages due now."""
    return str(send_due(now=clock.now()))
