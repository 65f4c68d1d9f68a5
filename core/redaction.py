"""Secrets kept out of every log line: feed tokens and search terms.

A feed URL (`/calendar/<token>.ics`) is the subscription's only secret, and
a search (`?q=Garcia`) names a patient. `RedactSecrets` rewrites a record's
message, before any handler formats it, so that the token becomes
`[redacted]` and so does every `q=` value. settings.LOGGING installs it on
the loggers that write request lines (django.request, django.server,
django.security) and on the console handler; config/gunicorn.py installs it
on gunicorn's access and error logs, whose request atoms it redacts too.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Anything after /calendar/ up to a space, quote or query: a token, or a
# mistyped one, which is still close to a secret. Percent-encoded slashes
# (%2F) are covered: the match runs to the next space or quote.
_FEED_PATH = re.compile(r"(/calendar/)[^\s\"'?#]+", re.IGNORECASE)
# q= as a query parameter, raw or percent-encoded inside a logged URL.
_SEARCH = re.compile(r"(^|[?&;]|%26|%3F)(q(?:=|%3D))[^&\s\"'#]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with feed tokens and `q=` values replaced by [redacted]."""
    if "/calendar/" not in text.lower() and "q" not in text.lower():
        return text
    text = _FEED_PATH.sub(rf"\g<1>{REDACTED}", text)
    return _SEARCH.sub(rf"\g<1>\g<2>{REDACTED}", text)


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
