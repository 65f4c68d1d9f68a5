"""The clinic's rules, booking links, offers of freed slots, and messages to
patients."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import PRODUCTION
from core.env import (
    env_bool,
    env_email_backend,
    env_int,
    env_prefixed,
    env_str,
)

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
# Where patients open the site: a message's booking link starts with it. The
# demo's address by default; production must set it (checked when a link is
# needed, `booking_links.services.site_url`, so a site sending no link runs).
SITE_URL = env_str("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"SITE_URL={SITE_URL!r} is not an address like https://followup.clinic.example"
    )

# Freed slots offered (offers), read when used: a booked slot freed at least
# this many hours ahead is offered to the patients whose window holds it,
# this many at a time, each offer open for this many minutes.
OFFER_MIN_LEAD_HOURS = env_int("OFFER_MIN_LEAD_HOURS", 24, minimum=0)
OFFER_BATCH = env_int("OFFER_BATCH", 3, minimum=1)
OFFER_HOLD_MINUTES = env_int("OFFER_HOLD_MINUTES", 120, minimum=1)

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
# writes them to the console, secrets redacted. An email service's API:
# EMAIL_BACKEND=anymail.backends.<service>.EmailBackend (postmark, mailgun,
# sendgrid...), its keys in ANYMAIL_* variables (below).
EMAIL_BACKEND = env_email_backend(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "messaging.console_mail.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@localhost")
# django-anymail's settings: every ANYMAIL_<KEY> variable is ANYMAIL["<KEY>"]
# (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_API_KEY...). The service's
# API is given up on after EMAIL_TIMEOUT seconds, as the SMTP server is.
ANYMAIL: dict[str, object] = {
    **env_prefixed("ANYMAIL_"),
    "REQUESTS_TIMEOUT": env_int("ANYMAIL_REQUESTS_TIMEOUT", EMAIL_TIMEOUT, minimum=1),
}
