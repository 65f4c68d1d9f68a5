"""The Celery application; tasks live in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
