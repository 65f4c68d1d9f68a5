"""The Celery application; tasks live in each app's tasks.py."""

import contextlib
import os
from typing import Any

from celery import Celery, signals

from core import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _send_request_id(headers: dict[str, Any], **kwargs: Any) -> None:
    # The request that sent the task (a booking) names its log lines too.
    current = logs.request_id.get()
    if current:
        headers.setdefault("request_id", current)


@signals.task_prerun.connect
def _enter_task(task: Any, **kwargs: Any) -> None:
    sent = getattr(task.request, "request_id", None) or (
        task.request.headers or {}
    ).get("request_id")
    task.request.log_token = logs.request_id.set(
        logs.accepted_request_id(sent or task.request.id)
    )


@signals.task_postrun.connect
def _leave_task(task: Any, **kwargs: Any) -> None:
    token = getattr(task.request, "log_token", None)
    if token is not None:
        # A token from another context (a thread pool's) cannot be reset
        # here; the next task's prerun sets its own id anyway.
        with contextlib.suppress(ValueError):
            logs.request_id.reset(token)


def _make_broker_folders() -> None:
    # kombu's filesystem transport does not create its folders; the web
    # process (producer) and the worker (consumer) both import this module.
    from pathlib import Path

    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    keys = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")
    for key in keys:
        Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])).mkdir(
            parents=True, exist_ok=True
        )


_make_broker_folders()
