"""Calendar feeds, the shared cache, and CalDAV push."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import VAR_DIR
from core.env import (
    env_bool,
    env_int,
    env_str,
)

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
