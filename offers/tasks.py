"""The beat task that expires offers and offers the next batches."""

from __future__ import annotations

from celery import shared_task

from clinic import clock
from offers.sweep import sweep_offers as sweep


@shared_task(name="offers.tasks.sweep_offers", ignore_result=True)
def sweep_offers() -> str:
    """Every minute (CELERY_BEAT_SCHEDULE): expire offers, offer next batches."""
    return str(sweep(now=clock.now()))
