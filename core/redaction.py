"""Secrets kept out of every log line: feed tokens, search terms and
patients' phone numbers and email addresses.

A feed URL (`/calendar/<token>.ics`) is the subscription's only secret, as
is a booking link (`/p/<token>/`), and
a search (`?q=Garcia`, `?q=612345678`) names a patient, as do a phone number
and an email address wherever a message quotes them (a refusal, an
exception's text). `RedactSecrets` rewrites a record's message, before any
handler formats it, so that the token becomes `[redacted]`, and so do every
`q=`, `phone=` and `email=` value, every E.164 number and every address.
settings.LOGGING installs it on the loggers that write request lines
(django.request, django.server, django.security) and on the console
handler; config/gunicorn.py installs it on gunicorn's access and error logs,
whose request atoms it redacts too.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Anything after /calendar/ (a feed) or /p/ (a booking link) up to a space,
# quote or query: a token, or a mistyped one, which is still close to a
# secret. Percent-encoded slashes (%2F) are covered: the match runs to the
# next space or quote.
_FEED_PATH = re.compile(r"(/calendar/|/p/)[^\s\"'?#]+", re.IGNORECASE)
# q=, phone= and email= as query parameters, raw or percent-encoded inside a
# logged URL.
_SEARCH = re.compile(
    r"(^|[?&;]|%26|%3F)((?:q|phone|email)(?:=|%3D))[^&\s\"'#]*", re.IGNORECASE
)
# A stored phone number (E.164, `+` and 8 to 15 digits), raw or
# percent-encoded, and an email address.
_PHONE = re.compile(r"(?:\+|%2B)\d{8,15}\b", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with feed tokens, `q=`, `phone=` and `email=` values, phone
    numbers and email addresses replaced by [redacted]."""
    lowered = text.lower()
    if not any(mark in lowered for mark in ("/calendar/", "/p/", "q", "+", "@", "%")):
        return text
    text = _FEED_PATH.sub(rf"\g<1>{REDACTED}", text)
    text = _SEARCH.sub(rf"\g<1>\g<2>{REDACTED}", text)
    text = _PHONE.sub(REDACTED, text)
    return _EMAIL.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Redacts the formatted message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
