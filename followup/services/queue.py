"""The follow-up worker's tasks, looked up by their registered names.

Services start jobs that a worker runs (an import, a re-plan), and the tasks
call the services: the services name the tasks here instead of importing
`followup.tasks`, so the two never import each other. The names are the
tasks' registered names, which beat schedules and queued messages also use.
"""

from __future__ import annotations

from celery import current_app
from celery.app.task import Task

RUN_IMPORT_JOB = "followup.tasks.run_import_job"
RUN_REPLAN_JOB = "followup.tasks.run_replan_job"


def task(name: str) -> Task:  # type: ignore[type-arg]
    """The registered task `name` (`followup.apps` registers them at start)."""
    return current_app.tasks[name]
