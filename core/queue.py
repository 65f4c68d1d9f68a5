"""Celery tasks looked up by their registered names.

A service that starts work for a worker (an import, an export) names the
task here instead of importing the app's `tasks.py`, which imports the
services: the two never import each other. The names are those beat
schedules and queued messages use; each app's `ready` imports its
`tasks.py`, so every process, not only workers, has them registered.
"""

from __future__ import annotations

from celery import current_app
from celery.app.task import Task


def task(name: str) -> Task:  # type: ignore[type-arg]
    """The registered task `name`, e.g. "feeds.tasks.export_visits"."""
    return current_app.tasks[name]
