"""Settings, all read from the environment.

Every value has a default that serves the demo clinic (`make run`): SQLite
and kombu's filesystem broker under `var/`. Production sets DATABASE_URL,
CELERY_BROKER_URL, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS. A value
that cannot be read fails at start-up with the variable's name, never later.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_int,
    env_list,
    env_phone_region,
    env_str,
    env_time_zone,
    env_weekly_hours,
    hosts_matching_anything,
)
from core.logs import logging_config

# Lets admin and QuerySet classes be subscripted at run time, as mypy wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLINIC_VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DJANGO_DEBUG", False)
# Behind TLS in production: HTTPS only, HSTS, secure cookies, a real key.
PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_PRODUCTION and DJANGO_DEBUG exclude each other")
DEMO_SECRET_KEY = "insecure-key-for-the-demo-and-tests-only"  # noqa: S105
# Keys published with this code (the demo's, the old docker-compose default,
# the placeholders of .env.example and the README): whoever has the code can
# sign sessions and reset links with them.
KNOWN_SECRET_KEYS = frozenset(
    {
        DEMO_SECRET_KEY,
        "insecure-compose-only-change-me",
        "change-me",
        "changeme",
        "secret",
    }
)
SECRET_KEY_MIN_LENGTH = 50


def production_secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign a production session, or None when it may."""
    if not key:
        return "DJANGO_SECRET_KEY must be set in production"
    if key in KNOWN_SECRET_KEYS or key.startswith("django-insecure"):
        return (
            "DJANGO_SECRET_KEY is a published default or demo key; set a new random one"
        )
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 10:
        return (
            f"DJANGO_SECRET_KEY is too weak: it needs at least "
            f"{SECRET_KEY_MIN_LENGTH} characters, and not a few repeated ones"
        )
    return None


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if PRODUCTION:
    _problem = production_secret_key_problem(SECRET_KEY)
    if _problem:
        raise ImproperlyConfigured(
            f"{_problem}. Generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'"
        )
elif not SECRET_KEY:
    SECRET_KEY = DEMO_SECRET_KEY

# CalDAV passwords are encrypted at rest (feeds.secrets) with keys apart
# from SECRET_KEY: comma-separated Fernet keys, newest first (rotation:
# prepend a key, run `manage.py rotate_caldav_key`, drop the old one).
# The demo key is published with the code: production requires its own.
DEMO_CALDAV_ENCRYPTION_KEY = "ZGVtby1rZXktZm9yLWRldmVsb3BtZW50LW9ubHkhISE="
CALDAV_ENCRYPTION_KEYS = env_list("CALDAV_ENCRYPTION_KEYS", "")
if PRODUCTION and not CALDAV_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("CALDAV_ENCRYPTION_KEYS must be set in production")
if PRODUCTION and DEMO_CALDAV_ENCRYPTION_KEY in CALDAV_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "CALDAV_ENCRYPTION_KEYS holds the published demo key; generate a new one"
    )
if not CALDAV_ENCRYPTION_KEYS:
    CALDAV_ENCRYPTION_KEYS = [DEMO_CALDAV_ENCRYPTION_KEY]
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
_ANY_HOST = hosts_matching_anything(ALLOWED_HOSTS)
if PRODUCTION and _ANY_HOST:
    raise ImproperlyConfigured(
        f"DJANGO_ALLOWED_HOSTS holds {', '.join(_ANY_HOST)}, which accepts any "
        "Host header; feed links and QR codes are built from the Host header, "
        "so list the clinic's own host names in production"
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # Django's admin on the clinic's own site: clinic admins only.
    "web.admin_config.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # API tokens: hashed, expiring (followup.api.authentication).
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    # Named partials: one template per page, htmx asks for a part of it.
    "template_partials",
    "axes",
    "csp",
    # Two-factor sign-in (TOTP) for clinic admins: web.two_factor.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # The audit trail of writes (clinic.audit).
    "auditlog",
    "clinic",
    "followup",
    "feeds",
    "booking_links",
    # Messages to patients: the outbox, its schedule and providers.
    "messaging",
    # The people's pages; the top layer: nothing below imports it.
    "web",
    # /healthz, beat's heartbeat, export_status: also on top.
    "ops",
]

MIDDLEWARE = [
    # First: every log line of the request, even a redirect's, carries its id.
    "core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Feed polls, like static files, need no session, CSRF or CSP.
    "feeds.middleware.FeedFastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A NUL in a page's query string is a 400, not a failed query.
    "web.middleware.NullQueryMiddleware",
    # Signs out a session begun before its account was last deactivated.
    "web.middleware.CredentialsEpochMiddleware",
    # Signs out a session left idle for SESSION_IDLE_MINUTES.
    "web.middleware.IdleTimeoutMiddleware",
    # request.user.is_verified(): whether this session passed a TOTP code.
    "django_otp.middleware.OTPMiddleware",
    # A clinic admin who must use 2FA goes nowhere else before passing it.
    "web.middleware.AdminTwoFactorMiddleware",
    # Names the signed-in user (pages, admin, API) in every audit entry.
    "web.middleware.AuditMiddleware",
    # A service's NotFound and Forbidden are the pages' 404 and 403.
    "web.errors.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.signed_in",
            ],
        },
    },
]

# Database: SQLite under var/ by default; DATABASE_URL switches to PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}")
# Connections kept per process (seconds; 0: one per request), and checked
# before a request or task reuses one, so a connection the server dropped
# (a restart, pg_terminate_backend) is replaced rather than failing.
_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60)
_CONN_CHECKS = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=_CONN_MAX_AGE, conn_health_checks=_CONN_CHECKS
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Every write transaction takes SQLite's write lock at BEGIN, so a
    # service's check-then-write cannot interleave with another writer's.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords chosen in any form (the /account/password/ page, the admin):
# long, not a common one, not a variant of the username or e-mail, not
# all digits.
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12, minimum=12)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A session left alone this long is signed out (web.middleware), and none
# lasts longer than SESSION_MAX_HOURS however busy (Django's default was 14
# days).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 12, minimum=1) * 60 * 60
# Two-factor sign-in (TOTP, django-otp) for clinic admins: always in
# production; the demo leaves it off so that `make run`'s logins work as
# printed, unless ADMIN_TWO_FACTOR_REQUIRED=true.
ADMIN_TWO_FACTOR_REQUIRED = env_bool("ADMIN_TWO_FACTOR_REQUIRED", PRODUCTION)
if PRODUCTION and not ADMIN_TWO_FACTOR_REQUIRED:
    raise ImproperlyConfigured(
        "ADMIN_TWO_FACTOR_REQUIRED cannot be false with DJANGO_PRODUCTION=true"
    )
# The issuer name an authenticator app shows next to the code.
OTP_TOTP_ISSUER = env_str("CLINIC_CALENDAR_NAME", "Spine clinic")
# The admin never shows a TOTP secret (nor its QR code): web.admin_security.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
# django-axes checks every login first: after LOGIN_FAILURE_LIMIT wrong
# passwords in a row for one username from one address, that pair is locked
# out for LOGIN_LOCKOUT_MINUTES (a clinic admin can unlock it sooner with
# `manage.py axes_reset_username`); and an address with
# LOGIN_FAILURES_PER_ADDRESS_HOUR failures within an hour, for any usernames
# (password spraying), is locked out until that hour has passed
# (web.login_limits). The address is the throttles' (core.addresses):
# REMOTE_ADDR, or X-Forwarded-For through TRUSTED_PROXIES proxies.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a session's user with the count of
    # their deactivations: a session from before the last one ends.
    "clinic.withdrawal.UserBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.account.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.addresses.client_address"
AXES_HANDLER = "web.login_limits.LoginLimitsHandler"
# One row per failed login (the per-address limit counts them).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
LOGIN_FAILURES_PER_ADDRESS_HOUR = env_int(
    "LOGIN_FAILURES_PER_ADDRESS_HOUR", 20, minimum=1
)
# No script of ours reads the CSRF cookie: htmx sends the token from the page
# (hx-headers on <body>), so an injected script cannot read it either.
CSRF_COOKIE_HTTPONLY = True
# Messages live in the session, never in a cookie: one of them may carry a
# calendar URL with its token.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# The clinic's wall clock: due dates and windows are its local dates.
CLINIC_TIME_ZONE = env_time_zone("CLINIC_TIME_ZONE", "Europe/Madrid")
TIME_ZONE = CLINIC_TIME_ZONE
# When a surgeon with no consultation sessions of their own can be booked,
# in the clinic's wall-clock time.
CLINIC_HOURS = env_weekly_hours("CLINIC_HOURS", "mon-fri 09:00-14:00, slot 10")
# Where a phone number typed without its country code is: "612 34 56 78" is
# +34 612 34 56 78 in Spain. Patients' phones are stored in E.164.
CLINIC_PHONE_REGION = env_phone_region("CLINIC_PHONE_REGION", "ES")
# The clinic's phone number as patients should dial it: their own calendar
# feed says to call it to book or change a visit ("" leaves it out).
CLINIC_PHONE = env_str("CLINIC_PHONE", "+34 910 000 000")
USE_TZ = True
LANGUAGE_CODE = "en"
USE_I18N = True
# Dates as the clinic writes them: "Wed 2 Dec 2026", times "09:20".
FORMAT_MODULE_PATH = ["config.formats"]

# Annual MRI reviews are generated this many years ahead; a daily beat task
# rolls the horizon forward.
ANNUAL_REVIEW_HORIZON_YEARS = env_int("ANNUAL_REVIEW_HORIZON_YEARS", 2, minimum=1)
# A surgery date later than this many days from today is refused as a typo.
SURGERY_DATE_MAX_DAYS_AHEAD = env_int("SURGERY_DATE_MAX_DAYS_AHEAD", 365, minimum=0)
# Unsuccessful contact attempts in a row (no answer, message left, wrong
# number) after which a visit still to book is "unreachable": lost to
# follow-up unless someone gets through.
FOLLOWUP_MAX_FAILED_ATTEMPTS = env_int("FOLLOWUP_MAX_FAILED_ATTEMPTS", 3, minimum=1)
# An annual review's MRI counts when performed at most this many days before
# the visit (before its window's end while it is unbooked).
MRI_VALID_DAYS = env_int("MRI_VALID_DAYS", 60, minimum=0)
# How a patient appears where the minimum necessary is shown (calendars,
# lists): fields {initials}, {record_number}, {given_name}, {family_name}.
PATIENT_LABEL_FORMAT = env_str("PATIENT_LABEL_FORMAT", "{initials} {record_number}")

# Calendar feeds. The domain ends every event's UID: changing it makes every
# subscribed calendar see new events, so set it once.
CLINIC_CALENDAR_DOMAIN = env_str("CLINIC_CALENDAR_DOMAIN", "followup.clinic.example")
CLINIC_CALENDAR_NAME = env_str("CLINIC_CALENDAR_NAME", "Spine clinic")
# Feed requests allowed per hour, per link token and per client address.
FEED_REQUESTS_PER_TOKEN_HOUR = env_int("FEED_REQUESTS_PER_TOKEN_HOUR", 120, minimum=1)
FEED_REQUESTS_PER_IP_HOUR = env_int("FEED_REQUESTS_PER_IP_HOUR", 1200, minimum=1)
# Requests per hour and client address that find no live link (guesses),
# counted apart: past it that address's unknown tokens get 429 unchecked.
FEED_GUESSES_PER_IP_HOUR = env_int("FEED_GUESSES_PER_IP_HOUR", 60, minimum=1)
# Booking links (/p/<token>/), throttled like feeds: requests per hour per
# link and per client address, and guesses per address counted apart.
BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR = env_int(
    "BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR", 60, minimum=1
)
BOOKING_LINK_REQUESTS_PER_IP_HOUR = env_int(
    "BOOKING_LINK_REQUESTS_PER_IP_HOUR", 600, minimum=1
)
BOOKING_LINK_GUESSES_PER_IP_HOUR = env_int(
    "BOOKING_LINK_GUESSES_PER_IP_HOUR", 20, minimum=1
)
# Live calendar links one calendar (a surgeon's, a patient's, the clinic's)
# may have at once; one more is refused with 409 until one is revoked.
CALENDAR_LINKS_PER_OWNER = env_int("CALENDAR_LINKS_PER_OWNER", 5, minimum=1)
# Feed bodies kept in each web process's memory (validated by the version).
FEED_MEMORY_CACHE_BYTES = env_int("FEED_MEMORY_CACHE_MB", 64) * 1024 * 1024
# Live links held in each web process's memory on PostgreSQL, dropped at
# once by the database's notifications (feeds.link_cache); false: every
# poll reads its link from the database.
FEED_LINK_MEMORY = env_bool("FEED_LINK_MEMORY", True)
# A held link is read from the database again once this old, so that even a
# lost notification ends a revoked link within these seconds.
FEED_LINK_MAX_AGE_SECONDS = env_int("FEED_LINK_MAX_AGE_SECONDS", 5, minimum=1)

# The cache every web process shares (feed bodies, feed throttling): Redis
# when CACHE_URL is set (redis://host:6379/1), else files under var/.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r} is not a redis:// URL")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

STATIC_URL = "static/"
# Where `collectstatic` writes and WhiteNoise serves from.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Content security policy (django-csp): everything from this app itself, no
# outside origin, no inline script or style. Swagger UI and Redoc come from
# drf-spectacular-sidecar; Swagger UI's start-up script is a file of its own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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
    # "N/second|minute|hour|day". The import is heavy: its own, lower rate.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "30/minute"),
        "user": env_str("API_THROTTLE_USER", "600/minute"),
        "import": env_str("API_THROTTLE_IMPORT", "10/hour"),
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
# Messages to patients (messaging). Read when used, so tests can change them.
# Quiet hours, clinic time: a message due then waits for their end ("" none).
MESSAGE_QUIET_HOURS = env_str("MESSAGE_QUIET_HOURS", "20:00-09:00")
# A provider's transient failure is tried again with a backoff, this many
# attempts in all; then the message is failed.
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 5, minimum=1)
MESSAGE_PROVIDER_TIMEOUT_SECONDS = env_int(
    "MESSAGE_PROVIDER_TIMEOUT_SECONDS", 10, minimum=1
)
# SMS: "console" writes them to the log (the demo); "twilio" sends them.
SMS_BACKEND = env_str("SMS_BACKEND", "console")
if SMS_BACKEND not in {"console", "twilio"}:
    raise ImproperlyConfigured(f"SMS_BACKEND={SMS_BACKEND!r} is not console or twilio")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = env_str("TWILIO_FROM", "")
# Empty: Twilio's own API. A URL: a stand-in (tests, benchmarks).
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "")
if SMS_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM"
    )
# Email to patients: Django's email backend. SMTP in production; the demo
# writes them to the console. An email service: django-anymail's backend.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@localhost")
# Pushing visits to surgeons' CalDAV calendars (feeds.caldav.push).
CALDAV_TIMEOUT_SECONDS = env_int("CALDAV_TIMEOUT_SECONDS", 10, minimum=1)
# An entry pending this long is re-enqueued by the reconciliation.
CALDAV_EXPORT_STALE_MINUTES = env_int("CALDAV_EXPORT_STALE_MINUTES", 5, minimum=1)
# After this many attempts a visit's export stops (failed) until an admin
# re-sends it: a task that kills its worker every time cannot loop forever.
CALDAV_EXPORT_MAX_ATTEMPTS = env_int("CALDAV_EXPORT_MAX_ATTEMPTS", 25, minimum=1)
# Every calendar is compared with the database this often, and what differs
# exported again (feeds.caldav.audit).
CALDAV_AUDIT_SECONDS = env_int("CALDAV_AUDIT_SECONDS", 60 * 60, minimum=60)
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

# JSON lines (core.logs) in production or with LOG_FORMAT=json; the human
# format otherwise. Every line carries the request id (or the task's).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not json or text")
LOGGING = logging_config(LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
# The worker and beat log through the handler above, not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if PRODUCTION:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # A load balancer's probe often speaks plain HTTP to the app itself.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise to browsers that is slow to take back: opt in.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # The deploy check's nudge towards preloading: declined on purpose.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
