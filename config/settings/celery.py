"""Celery: the broker, task options, beat's schedule, and /healthz limits."""

from config.settings.base import CLINIC_TIME_ZONE, VAR_DIR
from config.settings.feeds import CALDAV_AUDIT_SECONDS
from core.env import (
    env_int,
    env_str,
)

# Celery: kombu's filesystem transport by default, so `make run` needs no
# server; CELERY_BROKER_URL=redis://... in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_BROKER_DIR = VAR_DIR / "broker"
# Redis hands an unacknowledged task (its worker died) to another worker
# after this long, so it must exceed the longest task: the export task's
# time limits below derive from it. Tests lower it to a few seconds.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=2)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # Broadcast exchanges (worker control) too, never in the working dir.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Far shorter than Redis's default hour, so a killed worker's task
        # comes back within minutes.
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # kombu sweeps for expired unacknowledged tasks every interval x
        # throttle seconds (default 10 x 10); scan on every sweep instead.
        "unacked_restore_interval": max(1, min(30, CELERY_VISIBILITY_TIMEOUT // 10)),
        "unacked_restore_throttle": 1,
        # Every key of this app's queues starts with it: apps (or test runs)
        # sharing one Redis database never take each other's tasks.
        "global_keyprefix": env_str("CELERY_REDIS_KEY_PREFIX", ""),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = CLINIC_TIME_ZONE
# An export chunk stops softly (the rest continues in a new task) well before
# Redis would hand it to a second worker.
CELERY_TASK_ANNOTATIONS = {
    "feeds.tasks.export_visits": {
        "soft_time_limit": max(1, CELERY_VISIBILITY_TIMEOUT * 6 // 10),
        "time_limit": max(2, CELERY_VISIBILITY_TIMEOUT * 8 // 10),
    },
}
CELERY_BEAT_SCHEDULE = {
    "extend-annual-review-horizon": {
        "task": "followup.tasks.extend_annual_review_horizon",
        "schedule": 24 * 60 * 60,
    },
    "reconcile-calendar-exports": {
        "task": "feeds.tasks.reconcile_exports",
        "schedule": env_int("CALDAV_RECONCILE_SECONDS", 300, minimum=10),
    },
    "audit-caldav-calendars": {
        "task": "feeds.tasks.audit_calendars",
        "schedule": CALDAV_AUDIT_SECONDS,
    },
    "sweep-import-jobs": {"task": "followup.tasks.sweep_import_jobs", "schedule": 60},
    # Messages to patients live in the database; this sends what is due.
    "send-due-messages": {"task": "messaging.tasks.send_due_messages", "schedule": 60},
    # Offers of freed slots: expire the unclaimed ones, offer the next batch.
    "sweep-offers": {"task": "offers.tasks.sweep_offers", "schedule": 60},
    # /healthz reads the stamp: beat, a worker and the database all ran.
    "stamp-beat-heartbeat": {"task": "ops.tasks.stamp_heartbeat", "schedule": 60},
}
# /healthz answers 503 when beat's heartbeat (stamped every minute) is older
# than this, or when an export has been pending longer than the backlog limit.
HEALTH_BEAT_STALE_SECONDS = env_int("HEALTH_BEAT_STALE_SECONDS", 180, minimum=60)
HEALTH_EXPORT_BACKLOG_SECONDS = 60 * env_int(
    "HEALTH_EXPORT_BACKLOG_MINUTES", 30, minimum=1
)
# The broker is asked at most once this often per web process; requests
# between reuse the answer.
HEALTH_BROKER_CACHE_SECONDS = env_int("HEALTH_BROKER_CACHE_SECONDS", 5, minimum=1)
# /healthz requests per minute from one address (per web process): a probe
# every second is 60.
HEALTHZ_REQUESTS_PER_ADDRESS_MINUTE = env_int(
    "HEALTHZ_REQUESTS_PER_ADDRESS_MINUTE", 120, minimum=1
)
