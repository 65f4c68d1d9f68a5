"""Feed polls skip the middleware that serves people, not calendars
(`core.fast_path`): a calendar client polls with no cookie, no form and no
page to frame, so nothing wraps the feed's view but what wraps every
request."""

from __future__ import annotations

from django.urls import URLPattern

from core.fast_path import FastPathMiddleware
from feeds.urls import feed_pattern

# Views that read nothing of a session or a signed-in user.
FAST_PATTERNS: list[URLPattern] = [feed_pattern]


class FeedFastPathMiddleware(FastPathMiddleware):
    patterns = FAST_PATTERNS
