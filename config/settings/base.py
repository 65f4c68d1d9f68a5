"""Settings, all read from the environment: Django core, apps, database,
wall clock, static files and logs (this part); the rest by job beside it.

Every value has a default that serves the demo clinic (`make run`): SQLite
and kombu's filesystem broker under `var/`. Production sets DATABASE_URL,
CELERY_BROKER_URL, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS. A value
that cannot be read fails at start-up with the variable's name, never later.
"""

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_int,
    env_phone_region,
    env_str,
    env_time_zone,
    env_weekly_hours,
)
from core.logs import logging_config

# Lets admin and QuerySet classes be subscripted at run time, as mypy wants.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CLINIC_VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DJANGO_DEBUG", False)
# Behind TLS in production: HTTPS only, HSTS, secure cookies, a real key.
PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_PRODUCTION and DJANGO_DEBUG exclude each other")

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
    # Freed slots offered to the patients whose window holds them.
    "offers",
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
    # Nor does the patient's booking page: it keeps the NUL guard, the
    # frame and content policies.
    "web.patient_link.middleware.PatientLinkFastPathMiddleware",
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
        # Django's engine, each render on a fresh stretch of the frame stack
        # (web.template_engine); named "django", as partials expect.
        "BACKEND": "web.template_engine.PageTemplates",
        "NAME": "django",
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

STATIC_URL = "static/"
# Where `collectstatic` writes and WhiteNoise serves from.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# JSON lines (core.logs) in production or with LOG_FORMAT=json; the human
# format otherwise. Every line carries the request id (or the task's).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not json or text")
LOGGING = logging_config(LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
# The worker and beat log through the handler above, not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
