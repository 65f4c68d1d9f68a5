"""The REST API: DRF, API tokens (knox), the CSV import, drf-spectacular."""

import datetime as dt

from core.env import (
    env_int,
    env_str,
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "followup.api.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "followup.api.permissions.RolesRequired",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # A JSON API; the CSV import view adds its own parsers.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # "N/second|minute|hour|day". The import is heavy: its own, lower rate,
    # per person, for the files whose rows are read; the files refused
    # unread (not CSV, wrong header) are cheap and have a larger one
    # (followup.api.throttling).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "30/minute"),
        "user": env_str("API_THROTTLE_USER", "600/minute"),
        "import": env_str("API_THROTTLE_IMPORT", "10/hour"),
        "import_refused": env_str("API_THROTTLE_IMPORT_REFUSED", "60/hour"),
        # Wrong, expired or malformed API tokens per client address; past it
        # every token from that address is refused unchecked (429).
        "token_failure": env_str("API_TOKEN_FAILURES", "20/hour"),
        # Twilio's webhooks, per client address (Twilio's own addresses).
        "sms_hooks": env_str("SMS_HOOK_THROTTLE", "600/minute"),
    },
    # Reverse proxies in front of the app that append the client's address
    # to X-Forwarded-For: the throttles count the address that many hops
    # back. 0 (the default) counts REMOTE_ADDR and ignores the header, which
    # any client could otherwise forge to escape a throttle.
    "NUM_PROXIES": env_int("TRUSTED_PROXIES", 0),
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; the token
# is shown once, by `manage.py create_api_token`, and expires.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)
API_TOKEN_MAX_DAYS = 365
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": dt.timedelta(days=API_TOKEN_DAYS),
    "AUTO_REFRESH": False,
}
# The largest CSV the import accepts (about 100 bytes a row).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Files with more rows are imported by a Celery job (followup.services.
# import_jobs), not inside the request: 2,000 rows take 2-4 s on PostgreSQL
# here, on an idle or a loaded machine (bench/import_procedures.py), far
# inside gunicorn's 30 s timeout.
IMPORT_SYNC_MAX_ROWS = env_int("IMPORT_SYNC_MAX_ROWS", 2000, minimum=1)
# A job whose worker died is tried again, this many times in all.
IMPORT_JOB_MAX_ATTEMPTS = env_int("IMPORT_JOB_MAX_ATTEMPTS", 3, minimum=1)
# An unfinished job that has not moved this long is sent to a worker again.
IMPORT_JOB_STALE_MINUTES = env_int("IMPORT_JOB_STALE_MINUTES", 10, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic follow-up scheduling API",
    "DESCRIPTION": "Patients, procedures, their follow-up visits and bookings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "followup.api.permissions.AnyClinicRole",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served by the app (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from the validator's site.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_common_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "VisitStatusEnum": "followup.models.VisitStatus",
        "ProcedureStatusEnum": "clinic.models.ProcedureStatus",
        "ProcedureKindEnum": "clinic.models.ProcedureKind",
        # Two fields named "channel": how the desk reached the patient, and
        # how a message travels.
        "ContactChannelEnum": "followup.models.ContactChannel",
        "MessageChannelEnum": "messaging.models.Channel",
    },
}
