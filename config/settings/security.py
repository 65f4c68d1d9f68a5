"""Secrets, hosts, passwords, sessions, two-factor, login limits, CSP, HTTPS."""

import datetime as dt
import os

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import PRODUCTION
from core.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    hosts_matching_anything,
)

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
